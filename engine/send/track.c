/*
 * track - tracking for a campaign being prepared.
 *
 * With track_clicks the compiled HTML template is replaced by a copy whose
 * links render through /l/ (compose_track_links), and the links are stored
 * (store_links_save): both once per preparation, never per message.
 */
#include <stdio.h>
#include <string.h>

#include "engine/mail/compose.h"
#include "engine/send/prepare.h"
#include "engine/send/track.h"
#include "engine/store/tracking.h"
#include "engine/util/alloc.h"

static void confirm_lists(struct prepared_campaign *pc)
{
    json_t *lists = json_object_get(pc->row, "lists"), *l;
    size_t i;
    pc->confirm_lists = xcalloc(json_array_size(lists) + 1, sizeof(*pc->confirm_lists));
    pc->nconfirm_lists = 0;
    json_array_foreach(lists, i, l) {
        const char *optin = json_string_value(json_object_get(l, "optin"));
        if (optin && strcmp(optin, "double") == 0)
            pc->confirm_lists[pc->nconfirm_lists++] = (uint64_t)json_integer_value(json_object_get(l, "id"));
    }
    pc->cc.confirm_lists = pc->confirm_lists;
    pc->cc.nconfirm_lists = pc->nconfirm_lists;
}

/*
 * track_links - *HTML (the campaign's or a variant's) replaced by its copy with
 * tracked links, the links stored for PC's campaign and their ids in *IDS;
 * CC (the composing context that renders it) told both. 0, or -1 with ERR.
 */
static int track_links(PGconn *conn, struct prepared_campaign *pc, struct tmpl **html, uint64_t **ids_out,
                       struct compose_campaign *cc, char *err, size_t errlen)
{
    char **urls;
    size_t n;
    struct store_err e;
    struct tmpl *t = compose_track_links(*html, pc->public_url, &urls, &n);
    uint64_t *ids = xcalloc(n ? n : 1, sizeof(*ids));
    if (store_links_save(conn, pc->cc.id, urls, n, ids, &e) < 0) {
        snprintf(err, errlen, "campaign %llu: %s", (unsigned long long)pc->cc.id, e.msg);
        tmpl_free(t);
        xfree(ids);
        compose_links_free(urls, n);
        return -1;
    }
    compose_links_free(urls, n);
    tmpl_free(*html);
    *html = t;
    cc->html = t;
    *ids_out = ids;
    cc->link_ids = ids;
    return 0;
}

/* campaign_track_prepare - see track.h. */
int campaign_track_prepare(PGconn *conn, struct prepared_campaign *pc, char *err, size_t errlen)
{
    confirm_lists(pc);
    pc->cc.track_opens = json_is_true(json_object_get(pc->row, "track_opens"));
    if (!json_is_true(json_object_get(pc->row, "track_clicks")))
        return 0;
    return track_links(conn, pc, &pc->html, &pc->link_ids, &pc->cc, err, errlen);
}

/* campaign_track_variant - see track.h. */
int campaign_track_variant(PGconn *conn, struct prepared_campaign *pc, struct prepared_variant *v, char *err,
                           size_t errlen)
{
    if (!json_is_true(json_object_get(pc->row, "track_clicks")) || !v->html)
        return 0;
    return track_links(conn, pc, &v->html, &v->link_ids, &v->cc, err, errlen);
}

/* campaign_track_free - release PC's tracking data. */
void campaign_track_free(struct prepared_campaign *pc)
{
    xfree(pc->link_ids);
    xfree(pc->confirm_lists);
    pc->link_ids = pc->confirm_lists = NULL;
}
