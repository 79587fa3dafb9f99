/*
 * h_templates - stored templates: layouts a campaign's bodies go inside (postino template).
 *
 * api_templates_ls      GET /api/v1/templates
 * api_templates_get     GET /api/v1/templates/{template}
 * api_templates_create  POST /api/v1/templates: compiled first
 * api_templates_put     PUT /api/v1/templates/{template}: replaced, compiled first
 * api_templates_patch   PATCH /api/v1/templates/{template}: the fields given replaced, the
 *                       whole compiled first
 * api_templates_rm      DELETE /api/v1/templates/{template}
 * api_templates_render  POST /api/v1/templates/preview: a template not saved, compiled and
 *                       rendered around sample content for a subscriber (campaign_preview)
 *
 * A template is named by id or name. A subject, HTML or text that does not
 * compile is 400 naming the field, with its line and column (also as
 * "line" and "column" of the error).
 */
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/template.h"
#include "engine/store/templates.h"

#define TEMPLATE_BODY_MAX (8u << 20)   /* an HTML or text layout */

/* api_templates_ls - GET /api/v1/templates */
void api_templates_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_template_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

/* api_templates_get - GET /api/v1/templates/{template} */
void api_templates_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_template_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* is FIELD of IN a one-line, non-empty string when present; else answer 400 */
static bool one_line(struct api_req *r, json_t *in, const char *field, bool empty_ok)
{
    const char *s = api_json_str(in, field, NULL);
    if (s && !empty_ok && !*s) {
        api_reply_error(r, 400, "invalid_field", field, "field \"%s\" must not be empty", field);
        return false;
    }
    if (s && strpbrk(s, "\r\n")) {
        api_reply_error(r, 400, "invalid_field", field, "field \"%s\" must be one line", field);
        return false;
    }
    return true;
}

static const struct api_field template_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "html", API_FIELD_STRING, true, TEMPLATE_BODY_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, TEMPLATE_BODY_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* does FIELD of IN compile (as a layout when LAYOUT); else answer 400 with the line and column */
static bool compiles(struct api_req *r, json_t *in, const char *field, bool layout)
{
    const char *src = api_json_str(in, field, NULL);
    char err[TMPL_ERR_MAX];
    if (!src)
        return true;
    struct tmpl *t = layout ? tmpl_compile_wrap(src, strlen(src), "", 0, err, sizeof(err))
                            : tmpl_compile(src, strlen(src), err, sizeof(err));
    if (!t) {
        char msg[TMPL_ERR_MAX + 64];
        snprintf(msg, sizeof(msg), "field \"%s\": %s", field, err);
        api__reply_invalid_template(r, field, msg, err);
        return false;
    }
    tmpl_free(t);
    return true;
}

/* the template IN (checked against template_fields): REF NULL adds it, else it replaces REF */
static void template_save(struct api_req *r, const char *ref, json_t *in)
{
    struct store_err e;
    json_t *j = NULL;
    struct template_new t = {
        .name = api_json_str(in, "name", ""),
        .subject = api_json_str(in, "subject", NULL),
        .html = api_json_str(in, "html", ""),
        .text = api_json_str(in, "text", NULL),
    };
    if (!*t.name)
        api_reply_error(r, 400, "invalid_field", "name", "field \"name\" must not be empty");
    else if (one_line(r, in, "subject", false) && compiles(r, in, "subject", false) && compiles(r, in, "html", true) &&
             compiles(r, in, "text", true) && api_db(r))
        api_reply_stored(r, store_template_save(r->conn, ref, &t, &j, &e), &j, &e, ref ? 200 : 201);
}

/* api_templates_create - POST /api/v1/templates */
void api_templates_create(struct api_req *r)
{
    json_t *in;
    if (api_body(r, template_fields, &in) == 0)
        template_save(r, NULL, in);
    json_decref(in);
}

/* api_templates_put - PUT /api/v1/templates/{template} */
void api_templates_put(struct api_req *r)
{
    json_t *in;
    if (api_body(r, template_fields, &in) == 0)
        template_save(r, api_param(r, 0), in);
    json_decref(in);
}

static const struct api_field patch_fields[] = {
    { "name", API_FIELD_STRING, false, 200, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "html", API_FIELD_STRING, false, TEMPLATE_BODY_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, TEMPLATE_BODY_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/*
 * api_templates_patch - PATCH /api/v1/templates/{template}: the fields given
 * replace the stored ones (null clears the subject or the text), then saved
 * and checked as a PUT of the whole would be
 */
void api_templates_patch(struct api_req *r)
{
    static const char *const keys[] = { "name", "subject", "html", "text" };
    struct store_err e;
    json_t *in, *cur = NULL;
    if (api_body(r, patch_fields, &in) < 0)
        return;
    if (json_object_size(in) == 0) {
        api_reply_error(r, 400, "invalid", NULL, "give at least one of \"name\", \"subject\", \"html\", \"text\"");
    } else if (!api_db(r)) {
        ;
    } else if (store_template_get(r->conn, api_param(r, 0), &cur, &e) < 0) {
        api_reply_store(r, &e);
    } else {
        json_t *merged = json_object();
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            json_t *v = json_object_get(in, keys[i]);
            json_object_set(merged, keys[i], v ? v : json_object_get(cur, keys[i]));
        }
        char ref[32];
        snprintf(ref, sizeof(ref), "%lld", (long long)json_integer_value(json_object_get(cur, "id")));
        template_save(r, ref, merged);
        json_decref(merged);
    }
    json_decref(cur);
    json_decref(in);
}

static const struct api_field render_fields[] = {
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "html", API_FIELD_STRING, true, TEMPLATE_BODY_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, TEMPLATE_BODY_MAX, 0, 0 },
    { "content", API_FIELD_STRING, false, TEMPLATE_BODY_MAX, 0, 0 },
    { "subscriber", API_FIELD_STRING, false, 320, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

#define SAMPLE_CONTENT "<h1>A campaign's heading</h1>\n<p>The content of a campaign goes here.</p>"

/* api_templates_render - POST /api/v1/templates/preview: checked as a save would, then rendered */
void api_templates_render(struct api_req *r)
{
    json_t *in;
    if (api_body(r, render_fields, &in) < 0)
        return;
    if (one_line(r, in, "subject", false) && compiles(r, in, "subject", false) && compiles(r, in, "html", true) &&
        compiles(r, in, "text", true)) {
        json_t *layout = json_pack("{s:O,s:O?,s:O?}", "html", json_object_get(in, "html"), "text",
                                   json_object_get(in, "text"), "subject", json_object_get(in, "subject"));
        json_t *body = json_pack("{s:s,s:O?}", "html", api_json_str(in, "content", SAMPLE_CONTENT), "subscriber",
                                 json_object_get(in, "subscriber"));
        api__render(r, body, layout);
        json_decref(body);
        json_decref(layout);
    }
    json_decref(in);
}

/* api_templates_rm - DELETE /api/v1/templates/{template} */
void api_templates_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_template_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}
