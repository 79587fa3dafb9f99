/*
 * router - a linear scan over a small table; with a few dozen routes it
 * costs less than one database round trip. api_router_match returns 0,
 * API_ROUTE_NOT_FOUND when no pattern matches the path, or
 * API_ROUTE_BAD_METHOD when one does but not for this method (HEAD finds
 * the GET route, unless that GET does something: API_GET_ACTS).
 */
#include <stdbool.h>
#include <string.h>

#include "api/router.h"
#include "engine/util/alloc.h"

/* does PATH match PATTERN; captures into M when CAPTURE */
static int path_match(const char *pattern, const char *path, struct api_match *m, int capture)
{
    const char *p = pattern, *s = path;
    size_t n = 0;
    if (*p != '/' || *s != '/')
        return 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++, s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (slen == 0)
            return 0;
        const char *close = plen >= 2 && p[0] == '{' ? memchr(p, '}', plen) : NULL;
        if (close) {
            /* "{name}" or "{name}.suffix": the suffix matches literally and is not captured */
            size_t suf = plen - (size_t)(close + 1 - p);
            if (n >= API_ROUTE_MAX_PARAMS || slen <= suf || memcmp(s + slen - suf, close + 1, suf) != 0)
                return 0;
            if (capture)
                m->params[n] = xstrndup(s, slen - suf);
            n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen, s += slen;
    }
    if (*p || *s)
        return 0;
    if (capture)
        m->nparams = n;
    return 1;
}

/* api_router_match - the route of ROUTES for METHOD and PATH in *M; 0 or a negative API_ROUTE_* code. */
int api_router_match(const struct api_route *routes, const char *method, const char *path, struct api_match *m)
{
    int path_seen = 0;
    bool head = strcmp(method, "HEAD") == 0;
    memset(m, 0, sizeof(*m));
    if (head)
        method = "GET";
    for (size_t i = 0; routes[i].method; i++) {
        if (!path_match(routes[i].pattern, path, m, 0))
            continue;
        path_seen = 1;
        if (strcmp(routes[i].method, method) != 0 || (head && (routes[i].flags & API_GET_ACTS)))
            continue;
        path_match(routes[i].pattern, path, m, 1);
        m->route = &routes[i];
        m->index = i;
        return 0;
    }
    if (!path_seen) {
        /* "/admin/" is "/admin": one slash at the end is forgiven where the route says so */
        size_t n = strlen(path);
        if (n > 1 && n < 256 && path[n - 1] == '/' && path[n - 2] != '/') {
            char trimmed[256];
            memcpy(trimmed, path, n - 1);
            trimmed[n - 1] = 0;
            int rc = api_router_match(routes, head ? "HEAD" : method, trimmed, m);
            if (rc == 0 && (m->route->flags & API_TRAILING_SLASH))
                return 0;
            api_match_free(m);
            memset(m, 0, sizeof(*m));
        }
    }
    return path_seen ? API_ROUTE_BAD_METHOD : API_ROUTE_NOT_FOUND;
}

/* api_match_free - release M's captured segments. */
void api_match_free(struct api_match *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        xfree(m->params[i]);
    m->nparams = 0;
}
