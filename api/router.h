/*
 * router - METHOD and path patterns ("/api/v1/lists/{id}") to handlers.
 *
 * api_router_match  find the route for a request, with its {…} segments
 * api_match_free    release the captured segments
 * api_routes        the API's route table (api/routes.c), ended by a NULL method
 *
 * A {…} segment matches one non-empty path segment, and {…}.ext one that
 * ends in .ext (the part before it captured); everything else matches
 * literally. An empty segment (a doubled or trailing slash) matches nothing.
 * HEAD is answered as GET (the server sends the headers alone).
 */
#ifndef POSTINO_API_ROUTER_H
#define POSTINO_API_ROUTER_H

#include <stddef.h>

#define API_ROUTE_MAX_PARAMS 4
#define API_ROUTE_NOT_FOUND (-1)
#define API_ROUTE_BAD_METHOD (-2)

struct api_req;
typedef void (*api_handler_fn)(struct api_req *r);

enum api_access {
    API_PUBLIC,    /* no login */
    API_USER,      /* any active user */
    API_ADMIN,     /* active admins only */
};

enum api_body {
    API_BODY_NONE,       /* a body is refused (415 for a JSON one) */
    API_BODY_JSON,       /* application/json required */
    API_BODY_OPT_JSON,   /* empty, or application/json */
    API_BODY_ANY,        /* whatever (public form posts) */
    API_BODY_FILE,       /* text/csv or XML, spooled to a file as it arrives ([api] import_max_body);
                            the login and content type are checked before the body is read */
    API_BODY_IMAGE,      /* image/png, image/jpeg, image/gif or image/webp, in memory under
                            [admin] media_max_bytes; the type is checked before the body is read */
};

/* api_route.flags */
#define API_FORGET_LOGINS 1u   /* a success changes a user or a token: the login cache is emptied */
#define API_TRAILING_SLASH 4u  /* the path with one "/" more is this route too ("/admin/") */
#define API_GET_ACTS 8u        /* its GET counts or confirms something: HEAD (a link checker) is 405 there */
#define API_METRICS_LISTEN 2u  /* also served, without a login, on [http] metrics_listen (nothing else is) */

struct api_route {
    const char *method;
    const char *pattern;
    enum api_access access;
    enum api_body body;
    api_handler_fn fn;
    unsigned flags;        /* API_FORGET_LOGINS, API_METRICS_LISTEN, API_TRAILING_SLASH, API_GET_ACTS */
    char link;             /* a public link: the kind of signed token its first {…} is
                              (engine/mail/token.h), checked before the body; 0: none */
};

struct api_match {
    const struct api_route *route;
    size_t index;                          /* in the table */
    size_t nparams;
    char *params[API_ROUTE_MAX_PARAMS];    /* the {…} segments in order */
};

int api_router_match(const struct api_route *routes, const char *method, const char *path, struct api_match *m);
void api_match_free(struct api_match *m);

extern const struct api_route api_routes[];

#endif
