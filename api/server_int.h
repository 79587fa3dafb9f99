/*
 * server_int - the server's state, shared by server.c (the HTTP glue) and
 * request.c (what handlers call); included by nothing else.
 *
 * The pieces that are theirs alone keep their own locks: the database pool
 * (dbpool.c), the counters (metrics.c), the login cache (login_cache.c),
 * the totals on /metrics (counts_cache.c), the admin's previews
 * (preview_cache.c), the wrong passwords (throttle.h), the connections'
 * deadlines (deadline.c).
 */
#ifndef POSTINO_API_SERVER_INT_H
#define POSTINO_API_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/https.h"
#include "api/settings_api.h"
#include "engine/mail/token.h"

struct MHD_Daemon;
struct counts_cache;
struct dbpool;
struct deadlines;
struct http_metrics;
struct login_cache;
struct preview_cache;
struct throttle;

struct api_server {
    struct MHD_Daemon *mhd;
    struct MHD_Daemon *metrics_mhd;  /* [http] metrics_listen: /metrics alone, no login; NULL: none */
    struct dbpool *pool;
    char *conninfo;
    size_t max_body;
    size_t import_max_body;
    char *spool_dir;
    struct https_pem pem;            /* kept while the daemon runs */
    struct api_settings set;         /* as started */
    struct http_metrics *metrics;
    struct login_cache *logins;
    struct counts_cache *counts;     /* the database's totals on /metrics */
    struct preview_cache *previews;  /* the web admin's rendered previews (preview_cache.c) */
    struct throttle *throttle;       /* wrong passwords by account and address (login.c) */
    struct deadlines *deadlines;     /* slow requests cut off (deadline.c) */
    pthread_mutex_t key_lock;        /* the token key, read once */
    bool key_ready;
    unsigned char key[TOKEN_KEY_LEN];
    pthread_mutex_t log_lock;        /* libmicrohttpd's warnings, repeats held back (server.c) */
    char log_last[512];
    long log_at;
    unsigned long log_held;
};

#endif
