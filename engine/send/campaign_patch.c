/*
 * campaign_patch - some fields of a campaign changed, the others kept (see
 * campaign_ops.h).
 *
 * campaign_field_bit  the bit of a field's name
 * campaign_patch      merge the fields given into the stored campaign; a draft
 *                     or scheduled one goes through campaign_check and
 *                     campaign_update, a started one may only be renamed
 *
 * The stored campaign is read once (store_campaign_get) and what is not
 * given is taken from it as a person would type it again: the From as
 * "Name" <addr>, the lists, template and segment by id, the body in the
 * format it was written in. So a change is checked by the same rules as a
 * whole new campaign, in the same words.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/send/campaign_ops.h"
#include "engine/store/campaigns.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

const char *const campaign_field_names[CAMPAIGN_F_COUNT] = {
    "name", "subject", "from",    "reply_to", "template",    "html",        "markdown",
    "text", "lists",   "segment", "filter",   "track_opens", "track_clicks", "ab",
};

/* campaign_field_bit - see campaign_ops.h. */
unsigned campaign_field_bit(const char *name)
{
    for (unsigned i = 0; i < CAMPAIGN_F_COUNT; i++)
        if (strcmp(campaign_field_names[i], name) == 0)
            return 1u << i;
    return 0;
}

/* the stored campaign's strings kept alive while the merged input points at them */
struct stored {
    json_t *c;
    char **lists;
    size_t nlists;
    char template_id[24], segment_id[24];
    struct buf from;
};

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* the stored From as campaign_check reads it: "Name" <addr>, the name's quotes and backslashes escaped */
static void from_text(struct buf *b, const char *name, const char *addr)
{
    if (!name || !*name) {
        buf_appends(b, addr ? addr : "");
        return;
    }
    buf_appendc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_appendc(b, '\\');
        buf_appendc(b, *p);
    }
    buf_appendf(b, "\" <%s>", addr ? addr : "");
}

/* OUT: the stored campaign S->c as an input, overridden by IN's fields GIVEN names */
static void merge(struct stored *s, const struct campaign_input *in, unsigned given, struct campaign_input *out)
{
    json_t *c = s->c, *v;
    size_t i;
    json_t *lists = json_object_get(c, "lists");
    s->nlists = json_array_size(lists);
    s->lists = xcalloc(s->nlists ? s->nlists : 1, sizeof(char *));
    json_array_foreach(lists, i, v)
        s->lists[i] = xasprintf("%lld", (long long)json_integer_value(json_object_get(v, "id")));
    json_t *t = json_object_get(c, "template"), *g = json_object_get(c, "segment");
    if (json_is_object(t))
        snprintf(s->template_id, sizeof(s->template_id), "%lld",
                 (long long)json_integer_value(json_object_get(t, "id")));
    if (json_is_object(g))
        snprintf(s->segment_id, sizeof(s->segment_id), "%lld",
                 (long long)json_integer_value(json_object_get(g, "id")));
    from_text(&s->from, str_of(c, "from_name"), str_of(c, "from_addr"));
    bool md = str_of(c, "format") && strcmp(str_of(c, "format"), "markdown") == 0;
    *out = (struct campaign_input){
        .name = str_of(c, "name"),
        .subject = str_of(c, "subject"),
        .from = buf_cstr(&s->from),
        .reply_to = str_of(c, "reply_to"),
        .template_ref = s->template_id[0] ? s->template_id : NULL,
        .html = md ? NULL : str_of(c, "html"),
        .markdown = md ? str_of(c, "markdown") : NULL,
        .text = str_of(c, "text"),
        .lists = (const char *const *)s->lists,
        .nlists = s->nlists,
        .segment = s->segment_id[0] ? s->segment_id : NULL,
        .filter = str_of(c, "filter"),
        .track_opens = json_is_true(json_object_get(c, "track_opens")),
        .track_clicks = json_is_true(json_object_get(c, "track_clicks")),
        .ab = json_is_object(json_object_get(c, "ab")) ? json_object_get(c, "ab") : NULL,
    };
    if (given & CAMPAIGN_F_NAME)
        out->name = in->name;
    if (given & CAMPAIGN_F_SUBJECT)
        out->subject = in->subject;
    if (given & CAMPAIGN_F_FROM)
        out->from = in->from;
    if (given & CAMPAIGN_F_REPLY_TO)
        out->reply_to = in->reply_to;
    if (given & CAMPAIGN_F_TEMPLATE)
        out->template_ref = in->template_ref;
    if (given & (CAMPAIGN_F_HTML | CAMPAIGN_F_MARKDOWN)) {
        out->html = in->html;
        out->markdown = in->markdown;
    }
    if (given & CAMPAIGN_F_TEXT)
        out->text = in->text;
    if (given & CAMPAIGN_F_LISTS) {
        out->lists = in->lists;
        out->nlists = in->nlists;
    }
    if (given & (CAMPAIGN_F_SEGMENT | CAMPAIGN_F_FILTER)) {
        out->segment = in->segment;
        out->filter = in->filter;
    }
    if (given & CAMPAIGN_F_TRACK_OPENS)
        out->track_opens = in->track_opens;
    if (given & CAMPAIGN_F_TRACK_CLICKS)
        out->track_clicks = in->track_clicks;
    if (given & CAMPAIGN_F_AB)
        out->ab = in->ab;
}

/* STORE_ERR_CONFLICT for campaign ID in STATUS: the fields of REFUSED named in WHY */
static int refuse_started(const char *id, const char *status, unsigned refused, struct campaign_refusal *why)
{
    struct buf names = BUF_INIT;
    for (unsigned i = 0; i < CAMPAIGN_F_COUNT; i++) {
        if (!(refused & (1u << i)))
            continue;
        buf_appendf(&names, "%s%s", why->nrefused ? ", " : "", campaign_field_names[i]);
        why->refused[why->nrefused++] = campaign_field_names[i];
    }
    why->e.code = STORE_ERR_CONFLICT;
    why->e.field = why->refused[0];
    why->field = NULL;
    why->kind = "conflict";
    snprintf(why->e.msg, sizeof(why->e.msg),
             "campaign %s is %s: %s cannot change once it has started (only its name can; clone it for a new one)",
             id, status, buf_cstr(&names));
    buf_free(&names);
    return STORE_ERR_CONFLICT;
}

/* campaign_patch - see campaign_ops.h. */
int campaign_patch(PGconn *conn, const char *id, const struct campaign_input *in, unsigned given, json_t **out,
                   json_t **warnings, struct campaign_refusal *why)
{
    struct stored s = { .from = BUF_INIT };
    struct campaign_input merged;
    struct campaign_checked cc;
    int rc;
    *out = NULL;
    *warnings = NULL;
    memset(why, 0, sizeof(*why));
    if (given == 0) {
        why->e.code = STORE_ERR_INVALID;
        snprintf(why->e.msg, sizeof(why->e.msg), "give at least one field to change");
        return STORE_ERR_INVALID;
    }
    if ((rc = store_campaign_get(conn, id, &s.c, &why->e)) < 0)
        return rc;
    const char *status = str_of(s.c, "status"), *kind = str_of(s.c, "kind");
    bool started = strcmp(status, "draft") != 0 && strcmp(status, "scheduled") != 0;
    if (strcmp(kind, "campaign") != 0) {
        why->e.code = STORE_ERR_NOTFOUND;
        snprintf(why->e.msg, sizeof(why->e.msg), "no campaign %s", id);
        rc = STORE_ERR_NOTFOUND;
    } else if (started && (given & ~(unsigned)CAMPAIGN_F_AFTER_START)) {
        rc = refuse_started(id, status, given & ~(unsigned)CAMPAIGN_F_AFTER_START, why);
    } else {
        merge(&s, in, given, &merged);
        rc = campaign_check(&merged, &cc, why);
        if (rc == 0 && started) {
            rc = store_campaign_rename(conn, id, merged.name, out, &why->e);
            if (rc == 0)
                *warnings = json_array();
        } else if (rc == 0) {
            rc = campaign_update(conn, id, &cc, out, warnings, why);
        }
    }
    for (size_t i = 0; i < s.nlists; i++)
        xfree(s.lists[i]);
    xfree(s.lists);
    buf_free(&s.from);
    json_decref(s.c);
    return rc;
}
