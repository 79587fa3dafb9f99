/*
 * consent - the settings a writer of subscriptions sets first, and the
 * records they end up in.
 */
#include <stdbool.h>
#include <stdio.h>

#include "engine/store/consent.h"
#include "engine/store/pg.h"
#include "engine/util/log.h"

/* set the five postino.* settings, transaction-locally when LOCAL */
static int consent_set(PGconn *conn, bool local, const char *via, const char *actor, const char *ip, const char *ua,
                       const char *form_hash)
{
    const char *params[] = { via ? via : "", actor ? actor : "", ip ? ip : "", ua ? ua : "",
                             form_hash ? form_hash : "", local ? "t" : "f" };
    PGresult *res = pg_exec(conn,
                            "SELECT set_config('postino.via', $1, $6::boolean),"
                            " set_config('postino.actor', left($2, 300), $6::boolean),"
                            " set_config('postino.ip', left($3, 64), $6::boolean),"
                            " set_config('postino.ua', left($4, 500), $6::boolean),"
                            " set_config('postino.form_hash', left($5, 128), $6::boolean)",
                            6, params);
    int rc = pg_ok(res) ? STORE_OK : STORE_ERR_DB;
    if (rc < 0)
        log_warn("cannot set how subscriptions change: %s", pg_errmsg(conn, res));
    PQclear(res);
    return rc;
}

/* store_consent_context - see consent.h; inside a transaction only (outside one it lasts one statement). */
int store_consent_context(PGconn *conn, const char *via, const char *actor, const char *ip, const char *ua,
                          const char *form_hash)
{
    return consent_set(conn, true, via, actor, ip, ua, form_hash);
}

/* store_consent_session - see consent.h. */
int store_consent_session(PGconn *conn, const char *via, const char *actor, const char *ip, const char *ua,
                          const char *form_hash)
{
    return consent_set(conn, false, via, actor, ip, ua, form_hash);
}

/* store_consent_reset - see consent.h. */
int store_consent_reset(PGconn *conn)
{
    return pg_command(conn, "RESET postino.via; RESET postino.actor; RESET postino.ip; RESET postino.ua;"
                            " RESET postino.form_hash", NULL, 0) == 0 ? STORE_OK : STORE_ERR_DB;
}

/* store_consent_page - see consent.h; *OUT as the history pages' (history.h). */
int store_consent_page(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e)
{
    char before[32], limit[32];
    snprintf(before, sizeof(before), "%lld", h->before > 0 ? h->before : 0);
    snprintf(limit, sizeof(limit), "%ld", h->limit);
    const char *params[] = { h->email, before, limit };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('items', coalesce(json_agg(p.j ORDER BY p.id DESC)"
                            "   FILTER (WHERE p.id IS NOT NULL), '[]'),"
                            " 'next_before', CASE WHEN count(p.id) = $3::int THEN min(p.id) END)"
                            " FROM subscribers s LEFT JOIN LATERAL ("
                            "   SELECT c.id, json_build_object('id', c.id, 'at', c.at, 'list_id', c.list_id,"
                            "   'list', coalesce(l.name, c.list_name), 'list_deleted', l.id IS NULL,"
                            "   'from_status', c.from_status, 'to_status', c.to_status, 'via', c.via,"
                            "   'actor', c.actor, 'ip', c.ip, 'user_agent', c.user_agent, 'form_hash', c.form_hash) AS j"
                            "   FROM consent c LEFT JOIN lists l ON l.id = c.list_id"
                            "   WHERE c.subscriber_id = s.id AND (c.id < $2::bigint OR $2::bigint = 0)"
                            "   ORDER BY c.id DESC LIMIT $3::int) p ON true"
                            " WHERE lower(s.email) = lower($1) GROUP BY s.id",
                            3, params);
    return store_json_row(conn, res, out, e, "cannot read the subscriber's consent records", "no subscriber %s",
                          h->email);
}
