/*
 * h_segments - saved filters over subscribers, and counts of what a filter
 * picks (store_segment_*, as postino segment).
 *
 * api_segments_ls      GET /api/v1/segments
 * api_segments_create  POST /api/v1/segments {name, filter, description?}
 * api_segments_get     GET /api/v1/segments/{segment}
 * api_segments_patch   PATCH /api/v1/segments/{segment} {name?, filter?, description?}
 * api_segments_rm      DELETE /api/v1/segments/{segment}
 * api_segments_count   POST /api/v1/segments/count {segment | filter | neither, lists?}
 *
 * A bad filter is 400 invalid_field "filter", its line and column in the message.
 */
#include "api/handlers.h"
#include "engine/store/segments.h"

/* api_segments_ls - GET /api/v1/segments */
void api_segments_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_segment_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field segment_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "filter", API_FIELD_STRING, true, SEGMENT_MAX_LEN, 0, 0 },
    { "description", API_FIELD_STRING, false, 1000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* the same fields, none required: a change */
static const struct api_field segment_patch_fields[] = {
    { "name", API_FIELD_STRING, false, 200, 0, 0 },
    { "filter", API_FIELD_STRING, false, SEGMENT_MAX_LEN, 0, 0 },
    { "description", API_FIELD_STRING, false, 1000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_segments_create - POST /api/v1/segments */
void api_segments_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, segment_fields, &in) < 0)
        return;
    if (api_db(r))
        api_reply_stored(r,
                         store_segment_add(r->conn, api_json_str(in, "name", ""), api_json_str(in, "filter", ""),
                                           api_json_str(in, "description", ""), &j, &e),
                         &j, &e, 201);
    json_decref(in);
}

/* api_segments_get - GET /api/v1/segments/{segment} */
void api_segments_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_segment_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_segments_patch - PATCH /api/v1/segments/{segment} */
void api_segments_patch(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, segment_patch_fields, &in) < 0)
        return;
    const char *name = api_json_str(in, "name", NULL), *filter = api_json_str(in, "filter", NULL),
               *descr = api_json_str(in, "description", NULL);
    if (!name && !filter && !descr)
        api_reply_error(r, 400, "invalid", NULL, "a change names at least one of name, filter and description");
    else if (api_db(r))
        api_reply_stored(r, store_segment_set(r->conn, api_param(r, 0), name, filter, descr, &j, &e), &j, &e, 200);
    json_decref(in);
}

/* api_segments_rm - DELETE /api/v1/segments/{segment} */
void api_segments_rm(struct api_req *r)
{
    struct store_err e;
    if (api_db(r))
        api_reply_stored(r, store_segment_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

/* api_segments_count - POST /api/v1/segments/count */
void api_segments_count(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "segment", API_FIELD_STRING, false, 200, 0, 0 },
        { "filter", API_FIELD_STRING, false, SEGMENT_MAX_LEN, 0, 0 },
        { "lists", API_FIELD_REFS, false, SEGMENT_COUNT_LISTS_MAX, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    json_t *in, *j = NULL;
    struct store_err e;
    char **lists = NULL;
    size_t n = 0;
    if (api_body(r, fields, &in) < 0)
        return;
    const char *segment = api_json_str(in, "segment", NULL), *filter = api_json_str(in, "filter", NULL);
    api_json_refs(in, "lists", &lists, &n);
    if (api_db(r))
        api_reply_stored(r, store_segment_count(r->conn, segment, filter, (const char *const *)lists, n, &j, &e), &j,
                         &e, 200);
    api_json_refs_free(lists, n);
    json_decref(in);
}
