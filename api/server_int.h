/*
 * server_int - the server's state, shared by server.c (the HTTP glue) and
 * request.c (what handlers call); included by nothing else.
 *
 * The pieces that are theirs alone keep their own locks: the database pool
 * (dbpool.c), the counters (metrics.c), the login cache (login_cache.c).
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
struct dbpool;
struct http_metrics;
struct login_cache;

struct api_server {
    struct MHD_Daemon *mhd;
    struct dbpool *pool;
    char *conninfo;
    size_t max_body;
    size_t import_max_body;
    char *spool_dir;
    struct https_pem pem;            /* kept while the daemon runs */
    struct api_settings set;         /* as started */
    struct http_metrics *metrics;
    struct login_cache *logins;
    pthread_mutex_t key_lock;        /* the token key, read once */
    bool key_ready;
    unsigned char key[TOKEN_KEY_LEN];
};

#endif
