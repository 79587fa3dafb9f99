/*
 * settings_api - the API server's settings ([http], [api]) as a table
 * (engine/util/settings.h), filled once at start; the defaults until then.
 */
#ifndef POSTINO_API_SETTINGS_API_H
#define POSTINO_API_SETTINGS_API_H

#include <stddef.h>

#include "engine/util/settings.h"

struct api_settings {
    const char *listen;          /* ADDR:PORT or [V6ADDR]:PORT */
    size_t max_body;             /* bytes of a request body, at most */
    unsigned db_pool;            /* database connections */
    unsigned threads;            /* 0: as many as db_pool (at least one per core) */
    unsigned auth_cache_ms;      /* a checked token is believed this long; 0: never */
    unsigned idle_timeout_s;     /* a connection quiet this long is closed */
    unsigned max_connections;    /* connections at once, at most */
    unsigned max_connections_per_address;   /* from one client address; 0: no limit */
    unsigned header_timeout_s;   /* a request's line and headers, at most */
    unsigned body_timeout_s;     /* a body, at most, plus a second per body_min_rate bytes */
    unsigned body_min_rate;      /* bytes a second */
    const char *tls_cert;        /* PEM certificate (chain); with tls_key: HTTPS */
    const char *tls_key;         /* PEM private key */
    size_t import_max_body;      /* bytes of a spooled body (an import), at most */
    const char *spool_dir;       /* where bodies are spooled; NULL: [db] dir + "/spool" */
    unsigned import_jobs;        /* imports running at once */
    size_t import_inline_max;    /* an import this small is run before the answer */
    size_t import_rejects_max;   /* bytes of an import's rejects kept */
    const char *metrics_listen;  /* a second address serving /metrics alone, without a token; NULL: none */
    unsigned metrics_cache_s;    /* the database's totals on /metrics are this old at most; 0: never kept */
    unsigned max_tokens_per_user;    /* API tokens a user may hold */
    unsigned login_failures;     /* wrong passwords (per account, per address) before a wait */
    unsigned login_delay_s;      /* the first wait; each further wrong password doubles it */
    unsigned login_delay_max_s;  /* the longest wait */
    unsigned session_hours;      /* a web admin login lasts this long */
    size_t media_max_bytes;      /* bytes of an uploaded image, at most */
    unsigned preview_seconds;    /* a rendered preview is kept this long for the admin's frame */
    size_t preview_cache_bytes;  /* bytes of rendered previews kept, at most */
};

extern const struct setting api_table[];
extern struct api_settings api_settings;

#endif
