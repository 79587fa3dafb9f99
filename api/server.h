/*
 * server - the REST API over HTTP (libmicrohttpd, a pool of threads).
 *
 * api_server_config_from_conf  defaults and [http] listen, max_body, db_pool, threads,
 *                   auth_cache_ms, tls_cert, tls_key; [api] import_max_body and spool_dir
 *                   (default [db] dir + "/spool")
 * api_server_start  listen and serve in background threads (HTTPS when a
 *                   certificate and key are given); NULL with a one-line reason
 *                   in ERR when the address, certificate or key cannot be used
 * api_server_stop   stop accepting, finish the requests in progress, free
 *
 * Every answer is JSON (the error envelope {"error":{"code","message"}} for
 * failures) except the public pages and /metrics. A request is never
 * answered 500 for bad input: the database being away is 503.
 */
#ifndef POSTINO_API_SERVER_H
#define POSTINO_API_SERVER_H

#include <stddef.h>

struct api_server_config {
    const char *listen;        /* ADDR:PORT, [V6ADDR]:PORT; default 127.0.0.1:8080 */
    const char *conninfo;
    size_t max_body;           /* bytes; default 10 MB */
    unsigned db_pool;          /* connections; default 8 */
    unsigned threads;          /* 0: as many as db_pool (at least one per core) */
    unsigned auth_cache_ms;    /* a checked token is believed this long; default 1000, 0: never */
    const char *tls_cert;      /* PEM certificate (chain) file; with tls_key: HTTPS */
    const char *tls_key;       /* PEM private key file */
    size_t import_max_body;    /* spooled bodies (imports); default 1 GB */
    const char *spool_dir;     /* where they are spooled; default var/spool */
};

struct api_server;

void api_server_config_from_conf(struct api_server_config *cfg);
struct api_server *api_server_start(const struct api_server_config *cfg, char *err, size_t errlen);
void api_server_stop(struct api_server *s);

#endif
