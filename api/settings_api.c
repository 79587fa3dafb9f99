/*
 * settings_api - the [http] and [api] table (see settings_api.h).
 */
#include <stddef.h>

#include "api/settings_api.h"

#define HTTP_N(k, kind, field, d, lo, hi, what) \
    SETTING_NUMBER_ENTRY("http", k, kind, struct api_settings, field, d, lo, hi, what)
#define API_N(k, kind, field, d, lo, hi, what) \
    SETTING_NUMBER_ENTRY("api", k, kind, struct api_settings, field, d, lo, hi, what)

const struct setting api_table[] = {
    SETTING_TEXT_ENTRY("http", "listen", struct api_settings, listen, "127.0.0.1:8080", "the API's address and port"),
    HTTP_N("max_body", SETTING_SIZE, max_body, 10L * 1024 * 1024, 1024, 1024L * 1024 * 1024,
           "bytes of a request body, at most"),
    HTTP_N("db_pool", SETTING_UNSIGNED, db_pool, 8, 1, 1000, "database connections of the API"),
    HTTP_N("threads", SETTING_UNSIGNED, threads, 0, 0, 1024, "request threads (0: as many as db_pool)"),
    HTTP_N("auth_cache_ms", SETTING_UNSIGNED, auth_cache_ms, 1000, 0, 60000,
           "milliseconds a checked token is believed"),
    HTTP_N("idle_timeout", SETTING_UNSIGNED, idle_timeout_s, 30, 1, 3600, "seconds a quiet connection is kept"),
    HTTP_N("max_connections", SETTING_UNSIGNED, max_connections, 512, 1, 65536, "connections at once, at most"),
    HTTP_N("max_connections_per_address", SETTING_UNSIGNED, max_connections_per_address, 32, 0, 65536,
           "connections at once from one client address (0: no limit)"),
    HTTP_N("header_timeout", SETTING_UNSIGNED, header_timeout_s, 10, 1, 3600,
           "seconds a request's line and headers may take"),
    HTTP_N("body_timeout", SETTING_UNSIGNED, body_timeout_s, 20, 1, 3600,
           "seconds a body may take, one more for each body_min_rate bytes"),
    HTTP_N("body_min_rate", SETTING_UNSIGNED, body_min_rate, 500, 1, 1L << 30,
           "bytes a second a body must come at, after body_timeout"),
    SETTING_TEXT_ENTRY("http", "tls_cert", struct api_settings, tls_cert, NULL, "PEM certificate: HTTPS with tls_key"),
    SETTING_TEXT_ENTRY("http", "tls_key", struct api_settings, tls_key, NULL, "PEM private key (the file's name)"),
    SETTING_TEXT_ENTRY("http", "metrics_listen", struct api_settings, metrics_listen, NULL,
                       "ADDRESS:PORT serving /metrics alone, without a token (none: no such listener)"),
    HTTP_N("metrics_cache", SETTING_UNSIGNED, metrics_cache_s, 5, 0, 3600,
           "seconds the database's totals on /metrics are kept (0: asked every time)"),
    API_N("import_max_body", SETTING_SIZE, import_max_body, 1024L * 1024 * 1024, 1024, 64L * 1024 * 1024 * 1024,
          "bytes of an uploaded import, at most"),
    SETTING_TEXT_ENTRY("api", "spool_dir", struct api_settings, spool_dir, NULL,
                       "where uploads are spooled (none: [db] dir/spool)"),
    API_N("import_jobs", SETTING_UNSIGNED, import_jobs, 2, 1, 64, "imports running at once"),
    API_N("import_inline_max", SETTING_SIZE, import_inline_max, 1024L * 1024, 0, 1L << 40,
          "bytes of an import run before the answer"),
    API_N("import_rejects_max", SETTING_SIZE, import_rejects_max, 1024L * 1024, 0, 1L << 30,
          "bytes of an import's rejects kept"),
    API_N("max_tokens_per_user", SETTING_UNSIGNED, max_tokens_per_user, 50, 1, 100000, "API tokens a user may hold"),
    API_N("login_failures", SETTING_UNSIGNED, login_failures, 5, 1, 1000,
          "wrong passwords, per account and per address, before a wait"),
    API_N("login_delay", SETTING_UNSIGNED, login_delay_s, 2, 1, 3600,
          "seconds of the first wait; each further wrong password doubles it"),
    API_N("login_delay_max", SETTING_UNSIGNED, login_delay_max_s, 900, 1, 86400,
          "seconds of the longest wait after wrong passwords"),
    SETTING_NUMBER_ENTRY("admin", "session_hours", SETTING_UNSIGNED, struct api_settings, session_hours, 12, 1, 24 * 30,
                         "hours a web admin login lasts"),
    SETTING_NUMBER_ENTRY("admin", "media_max_bytes", SETTING_SIZE, struct api_settings, media_max_bytes,
                         5L * 1024 * 1024, 1024, 64L * 1024 * 1024, "bytes of an uploaded image, at most"),
    SETTING_NUMBER_ENTRY("admin", "preview_seconds", SETTING_UNSIGNED, struct api_settings, preview_seconds, 600, 1,
                         86400, "seconds a rendered preview stays at its /admin/preview/ID address"),
    SETTING_NUMBER_ENTRY("admin", "preview_cache_bytes", SETTING_SIZE, struct api_settings, preview_cache_bytes,
                         64L * 1024 * 1024, 1024L * 1024, 4096L * 1024 * 1024,
                         "bytes of rendered previews the server keeps, at most (the oldest go first)"),
    { 0 },
};

struct api_settings api_settings;

/* the defaults from the table, before main reads the configuration */
__attribute__((constructor)) static void settings_api_defaults(void)
{
    settings_defaults(api_table, &api_settings);
}
