/*
 * server - the REST API over HTTP (libmicrohttpd, a pool of threads).
 *
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

#include "api/settings_api.h"

struct api_server_config {
    const char *conninfo;
    struct api_settings set;   /* [http] and [api] (settings_api.h); set.spool_dir must be set */
};

struct api_server;

struct api_server *api_server_start(const struct api_server_config *cfg, char *err, size_t errlen);
void api_server_stop(struct api_server *s);

#endif
