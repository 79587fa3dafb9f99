/*
 * via - the settings that say how a subscription change is made (see via.h).
 *
 * Set at session level with set_config(..., false), since the store
 * functions a front end calls run their own transactions; the caller resets
 * them when done (a NULL value is RESET), before the connection goes back to its pool.
 */
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/via.h"

/* cut - S, or '' for NULL, cut to VIA_VALUE_MAX bytes on a UTF-8 boundary, in BUF */
static const char *cut(const char *s, char buf[VIA_VALUE_MAX + 1])
{
    size_t n = s ? strlen(s) : 0;
    if (n <= VIA_VALUE_MAX)
        return s ? s : "";
    n = VIA_VALUE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

/* store_via_set - see via.h. */
int store_via_set(PGconn *conn, const struct store_via *v, struct store_err *e)
{
    char b[5][VIA_VALUE_MAX + 1];
    const char *p[] = { cut(v->via, b[0]), cut(v->actor, b[1]), cut(v->ip, b[2]), cut(v->ua, b[3]),
                        cut(v->form_hash, b[4]) };
    PGresult *res = pg_exec(conn,
                            "SELECT set_config('postino.via', $1, false), set_config('postino.actor', $2, false),"
                            " set_config('postino.ip', $3, false), set_config('postino.ua', $4, false),"
                            " set_config('postino.form_hash', $5, false)",
                            5, p);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot record how the change is made");
    PQclear(res);
    return rc;
}

/* store_via_reset - see via.h. */
int store_via_reset(PGconn *conn, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT set_config('postino.via', NULL, false), set_config('postino.actor', NULL, false),"
                            " set_config('postino.ip', NULL, false), set_config('postino.ua', NULL, false),"
                            " set_config('postino.form_hash', NULL, false)",
                            0, NULL);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot reset how changes are made");
    PQclear(res);
    return rc;
}
