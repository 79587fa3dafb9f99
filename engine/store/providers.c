/*
 * providers - mailbox providers, the provider of a recipient, and the
 * counts by provider (see providers.h).
 *
 * Which provider a recipient belongs to is decided by the one SQL function
 * provider_match (sql/033_providers.sql): the log's follower records it on
 * each delivery_mta row through a trigger, and `provider match` asks it the
 * same question. The counts read delivery_mta through its indexes on the
 * campaign (delivery_mta_campaign_idx) and on the time (delivery_mta_at_idx).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/mail/provider.h"
#include "engine/store/pg.h"
#include "engine/store/providers.h"
#include "engine/util/alloc.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define PROVIDER_JSON                                                                                          \
    "json_build_object('id', p.id, 'name', p.name, 'label', p.label,"                                          \
    " 'domains', (SELECT coalesce(json_agg(d.pattern ORDER BY d.pattern), '[]') FROM provider_domains d"       \
    "   WHERE d.provider_id = p.id),"                                                                          \
    " 'mx', (SELECT coalesce(json_agg(m.pattern ORDER BY m.pattern), '[]') FROM provider_mx m"                 \
    "   WHERE m.provider_id = p.id),"                                                                          \
    " 'learned', (SELECT count(*) FROM provider_learned l WHERE l.provider_id = p.id),"                       \
    " 'pace', provider_pace_json(p.id),"                                                                       \
    " 'created_at', p.created_at, 'updated_at', p.updated_at)"

/* store_provider_ls - see providers.h. */
int store_provider_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" PROVIDER_JSON " ORDER BY p.id), '[]') FROM providers p",
                          out, e, "cannot list the providers");
}

/* store_provider_get - see providers.h. */
int store_provider_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(
        conn,
        "SELECT (" PROVIDER_JSON "::jsonb || jsonb_build_object("
        " 'learned_domains', (SELECT coalesce(jsonb_agg(jsonb_build_object('domain', l.domain, 'mx_host', l.mx_host,"
        "   'learned_at', l.learned_at) ORDER BY l.learned_at DESC, l.domain), '[]') FROM (SELECT * FROM provider_learned l"
        "   WHERE l.provider_id = p.id ORDER BY l.learned_at DESC, l.domain LIMIT " STR(PROVIDER_LEARNED_SHOWN) ") l),"
        " 'counts', (SELECT jsonb_build_object('delivered', coalesce(max(c.delivered), 0),"
        "   'bounced', coalesce(max(c.bounced), 0), 'expired', coalesce(max(c.expired), 0),"
        "   'deferrals', coalesce(max(c.deferrals), 0), 'complaints', coalesce(max(c.complaints), 0))"
        "   FROM provider_counts c WHERE c.provider_id = p.id)))::text"
        " FROM providers p WHERE " PROVIDER_REF_MATCH(1) " ORDER BY (p.name = $1) DESC LIMIT 1",
        1, &ref);
    return store_json_row(conn, res, out, e, "cannot read the provider", "no provider \"%s\"", ref);
}

/*
 * the patterns IN (N of them) checked by CHECK and normalised, as a JSON
 * array text into *OUT (the caller's to free); STORE_ERR_INVALID on FIELD
 */
static int patterns_json(const char *const *in, size_t n, int (*check)(const char *, char *, size_t, const char **),
                         const char *field, const char *what, char **out, struct store_err *e)
{
    *out = NULL;
    if (n > PROVIDER_PATTERNS_MAX)
        return store_fail_field(e, field, "at most %d %s patterns at once", PROVIDER_PATTERNS_MAX, what);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char norm[PROVIDER_PATTERN_MAX + 3];
        const char *why;
        if (check(in[i], norm, sizeof(norm), &why) < 0) {
            json_decref(arr);
            return store_fail_field(e, field, "invalid %s pattern \"%.200s\": %s", what, in[i], why);
        }
        json_array_append_new(arr, json_string(norm));
    }
    *out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return STORE_OK;
}

/* the name and label of ED, when given, checked */
static int fields_check(const struct provider_edit *ed, struct store_err *e)
{
    const char *why;
    if (ed->name && provider_name_check(ed->name, &why) < 0)
        return store_fail_field(e, "name", "invalid provider name \"%.100s\": %s", ed->name, why);
    if (ed->label && strlen(ed->label) > 100)
        return store_fail_field(e, "label", "a provider's label is at most 100 bytes");
    if (ed->label && mime_name_check(ed->label, false, &why) < 0)
        return store_fail_field(e, "label", "the provider's label %s", why);
    return STORE_OK;
}

/* one statement of a change; its failure into E */
static int run(PGconn *conn, const char *sql, int n, const char *const *params, struct store_err *e)
{
    PGresult *res = pg_exec(conn, sql, n, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot change the provider");
    PQclear(res);
    return rc;
}

/* STORE_ERR_INVALID on FIELD when a pattern of the JSON array PATTERNS in TABLE is another provider's than ID */
static int taken_check(PGconn *conn, const char *table, const char *field, const char *what, const char *patterns,
                       const char *id, struct store_err *e)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT t.pattern, p.name FROM %s t JOIN providers p ON p.id = t.provider_id"
             " WHERE t.pattern IN (SELECT json_array_elements_text($1::json)) AND p.id <> $2::int"
             " ORDER BY t.pattern LIMIT 1",
             table);
    const char *params[] = { patterns, id };
    PGresult *res = pg_exec(conn, sql, 2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change the provider");
    else if (PQntuples(res) == 1)
        rc = store_fail_field(e, field, "the %s pattern \"%s\" is provider %s's", what, PQgetvalue(res, 0, 0),
                              PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

/* the patterns of ED, checked: JSON arrays of the domains and the hosts to add and to remove */
struct edit_json {
    char *domains, *mx, *rm_domains, *rm_mx;
};

static void edit_json_free(struct edit_json *j)
{
    free(j->domains);
    free(j->mx);
    free(j->rm_domains);
    free(j->rm_mx);
}

static int edit_json(const struct provider_edit *ed, struct edit_json *j, struct store_err *e)
{
    memset(j, 0, sizeof(*j));
    if (patterns_json(ed->domains, ed->ndomains, provider_domain_pattern, "domains", "domain", &j->domains, e) < 0 ||
        patterns_json(ed->mx, ed->nmx, provider_mx_pattern, "mx", "host", &j->mx, e) < 0 ||
        patterns_json(ed->rm_domains, ed->nrm_domains, provider_domain_pattern, "domains", "domain", &j->rm_domains,
                      e) < 0 ||
        patterns_json(ed->rm_mx, ed->nrm_mx, provider_mx_pattern, "mx", "host", &j->rm_mx, e) < 0) {
        edit_json_free(j);
        return e->code;
    }
    return STORE_OK;
}

/* a pattern of RM (a JSON array) that provider ID does not have: STORE_ERR_INVALID on FIELD */
static int rm_check(PGconn *conn, const char *table, const char *field, const char *what, const char *rm,
                    const char *id, struct store_err *e)
{
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT x FROM json_array_elements_text($1::json) x WHERE NOT EXISTS (SELECT 1 FROM %s t"
             " WHERE t.pattern = x AND t.provider_id = $2::int) LIMIT 1",
             table);
    const char *params[] = { rm, id };
    PGresult *res = pg_exec(conn, sql, 2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change the provider");
    else if (PQntuples(res) == 1)
        rc = store_fail_field(e, field, "the provider has no %s pattern \"%s\"", what, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* the patterns of J into provider ID, within a transaction: replaced, added, removed */
static int patterns_apply(PGconn *conn, const char *id, const struct provider_edit *ed, const struct edit_json *j,
                          struct store_err *e)
{
    const char *p_dom[] = { id, j->domains }, *p_mx[] = { id, j->mx }, *p_rmd[] = { id, j->rm_domains },
               *p_rmm[] = { id, j->rm_mx };
    int rc = taken_check(conn, "provider_domains", "domains", "domain", j->domains, id, e);
    if (rc == STORE_OK)
        rc = taken_check(conn, "provider_mx", "mx", "host", j->mx, id, e);
    if (rc == STORE_OK)
        rc = rm_check(conn, "provider_domains", "domains", "domain", j->rm_domains, id, e);
    if (rc == STORE_OK)
        rc = rm_check(conn, "provider_mx", "mx", "host", j->rm_mx, id, e);
    if (rc == STORE_OK && ed->set_domains)
        rc = run(conn, "DELETE FROM provider_domains WHERE provider_id = $1::int", 1, p_dom, e);
    if (rc == STORE_OK && ed->set_mx)
        rc = run(conn, "DELETE FROM provider_mx WHERE provider_id = $1::int", 1, p_mx, e);
    if (rc == STORE_OK)
        rc = run(conn, "DELETE FROM provider_domains WHERE provider_id = $1::int"
                       " AND pattern IN (SELECT json_array_elements_text($2::json))", 2, p_rmd, e);
    if (rc == STORE_OK)
        rc = run(conn, "DELETE FROM provider_mx WHERE provider_id = $1::int"
                       " AND pattern IN (SELECT json_array_elements_text($2::json))", 2, p_rmm, e);
    if (rc == STORE_OK)
        rc = run(conn, "INSERT INTO provider_domains (pattern, provider_id) SELECT DISTINCT x, $1::int"
                       " FROM json_array_elements_text($2::json) x ON CONFLICT (pattern) DO NOTHING", 2, p_dom, e);
    if (rc == STORE_OK)
        rc = run(conn, "INSERT INTO provider_mx (pattern, provider_id) SELECT DISTINCT x, $1::int"
                       " FROM json_array_elements_text($2::json) x ON CONFLICT (pattern) DO NOTHING", 2, p_mx, e);
    return rc;
}

/* the provider ID's JSON, then the transaction's end */
static int finish(PGconn *conn, int rc, const char *id, json_t **out, struct store_err *e)
{
    if (rc == STORE_OK) {
        PGresult *res = pg_exec(conn, "SELECT " PROVIDER_JSON " FROM providers p WHERE p.id = $1::int", 1, &id);
        rc = store_json_row(conn, res, out, e, "cannot read the provider", "no provider %s", id);
    }
    if (rc != STORE_OK) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0) {
        json_decref(*out);
        *out = NULL;
        return store_fail_db(e, conn, NULL, "cannot change the provider");
    }
    return STORE_OK;
}

/* store_provider_add - see providers.h. */
int store_provider_add(PGconn *conn, const struct provider_edit *ed, json_t **out, struct store_err *e)
{
    struct edit_json j;
    if (!ed->name)
        return store_fail_field(e, "name", "a provider needs a name");
    if (fields_check(ed, e) < 0 || edit_json(ed, &j, e) < 0)
        return e->code;
    if (pg_begin(conn) < 0) {
        edit_json_free(&j);
        return store_fail_db(e, conn, NULL, "cannot add the provider");
    }
    const char *params[] = { ed->name, ed->label ? ed->label : "" };
    PGresult *res = pg_exec(conn, "INSERT INTO providers (name, label) VALUES ($1, $2) RETURNING id", 2, params);
    int rc = STORE_OK;
    char id[32] = "";
    if (!pg_ok(res) && strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0)
        rc = store_fail(e, STORE_ERR_EXISTS, "provider \"%s\" already exists", ed->name);
    else if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot add the provider");
    else
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == STORE_OK)
        rc = patterns_apply(conn, id, ed, &j, e);
    edit_json_free(&j);
    return finish(conn, rc, id, out, e);
}

/* store_provider_set - see providers.h. */
int store_provider_set(PGconn *conn, const char *ref, const struct provider_edit *ed, json_t **out,
                       struct store_err *e)
{
    struct edit_json j;
    if (fields_check(ed, e) < 0 || edit_json(ed, &j, e) < 0)
        return e->code;
    if (pg_begin(conn) < 0) {
        edit_json_free(&j);
        return store_fail_db(e, conn, NULL, "cannot change the provider");
    }
    PGresult *res = pg_exec(conn,
                            "SELECT p.id FROM providers p WHERE " PROVIDER_REF_MATCH(1)
                            " ORDER BY (p.name = $1) DESC LIMIT 1 FOR UPDATE",
                            1, &ref);
    int rc = STORE_OK;
    char id[32] = "";
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change the provider");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no provider \"%s\"", ref);
    else
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == STORE_OK) {
        const char *params[] = { id, ed->name, ed->label };
        res = pg_exec(conn,
                      "UPDATE providers SET name = coalesce($2, name), label = coalesce($3, label), updated_at = now()"
                      " WHERE id = $1::int",
                      3, params);
        if (!pg_ok(res) && strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0)
            rc = store_fail(e, STORE_ERR_EXISTS, "provider \"%s\" already exists", ed->name);
        else if (!pg_ok(res))
            rc = store_fail_db(e, conn, res, "cannot change the provider");
        PQclear(res);
    }
    if (rc == STORE_OK)
        rc = patterns_apply(conn, id, ed, &j, e);
    edit_json_free(&j);
    return finish(conn, rc, id, out, e);
}

/* store_provider_rm - see providers.h. */
int store_provider_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "DELETE FROM providers WHERE id = (SELECT p.id FROM providers p WHERE " PROVIDER_REF_MATCH(1)
                            " ORDER BY (p.name = $1) DESC LIMIT 1)",
                            1, &ref);
    return store_deleted(conn, res, e, "provider", ref, "provider \"%s\" is in use", "cannot remove the provider");
}

/* store_provider_match - see providers.h. */
int store_provider_match(PGconn *conn, const char *target, const char *relay, json_t **out, struct store_err *e)
{
    char dom[PROVIDER_PATTERN_MAX + 3], host[PROVIDER_PATTERN_MAX + 3];
    const char *why;
    if (provider_target(target, dom, sizeof(dom), &why) < 0)
        return store_fail_field(e, "target", "invalid address or domain \"%.200s\": %s", target, why);
    if (relay && provider_relay_host(relay, host, sizeof(host), &why) < 0)
        return store_fail_field(e, "mx", "invalid receiving host \"%.200s\": %s", relay, why);
    const char *params[] = { dom, relay ? host : NULL };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('domain', $1::text, 'host', $2::text,"
                            " 'provider', coalesce(p.name, 'other'), 'label', coalesce(p.label, ''),"
                            " 'how', coalesce(m.how, 'none'), 'pattern', m.pattern)"
                            " FROM provider_match($1, $2) m LEFT JOIN providers p ON p.id = m.provider_id",
                            2, params);
    int rc = store_json_row(conn, res, out, e, "cannot match the provider", "nothing matched");
    if (rc < 0)
        return rc;
    const char *how = json_string_value(json_object_get(*out, "how")),
               *pattern = json_string_value(json_object_get(*out, "pattern")),
               *name = json_string_value(json_object_get(*out, "provider"));
    char text[800];
    if (strcmp(how, "domain") == 0)
        snprintf(text, sizeof(text), "%s: the domain %s matches the domain pattern %s", name, dom, pattern);
    else if (strcmp(how, "mx") == 0)
        snprintf(text, sizeof(text), "%s: the receiving host %s matches the host pattern %s", name, host, pattern);
    else if (strcmp(how, "learned") == 0)
        snprintf(text, sizeof(text), "%s: learned, mail to %s was taken by %s, a host of %s", name, dom, pattern,
                 name);
    else
        snprintf(text, sizeof(text), "other: no domain pattern names %s%s%s, and it was not learned", dom,
                 relay ? ", no host pattern matches " : "", relay ? host : "");
    json_object_set_new(*out, "why", json_string(text));
    return STORE_OK;
}

/*
 * The counts of one group of delivery_mta rows x, by provider: the columns of
 * the "m" part below (grouped by x.provider_id as it is, so that a campaign's
 * rows come in the order of delivery_mta_campaign_idx, read alone; the two
 * percentiles from one sort).
 */
#define MTA_COUNTS                                                                                              \
    "count(*) FILTER (WHERE x.state = 'delivered') AS delivered,"                                              \
    " count(*) FILTER (WHERE x.state = 'deferred') AS deferred, coalesce(sum(x.deferrals), 0) AS deferrals,"  \
    " count(*) FILTER (WHERE x.state = 'bounced') AS bounced, count(*) FILTER (WHERE x.state = 'expired') AS expired," \
    " percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY x.delivered_s)"                                   \
    "   FILTER (WHERE x.state = 'delivered') AS pct"

/* One provider's row of counts r (from m, b and providers p), as JSON. */
#define ROW_JSON                                                                                               \
    "json_build_object('provider', coalesce(p.name, 'other'), 'label', coalesce(p.label, 'Other'),"            \
    " 'delivered', coalesce(m.delivered, 0), 'deferred', coalesce(m.deferred, 0),"                              \
    " 'deferrals', coalesce(m.deferrals, 0), 'bounced', coalesce(m.bounced, 0), 'expired', coalesce(m.expired, 0)," \
    " 'bounces', json_build_object('hard', coalesce(b.hard, 0), 'soft', coalesce(b.soft, 0),"                  \
    "   'policy', coalesce(b.policy, 0), 'unknown', coalesce(b.unknown, 0)),"                                   \
    " 'complaints', coalesce(b.complaints, 0),"                                                                 \
    " 'delivery_s', json_build_object('median', round(m.pct[1]::numeric, 1), 'p95', round(m.pct[2]::numeric, 1)))"

/* The bounce rows x by provider and class: the columns of the "b" part below. */
#define BOUNCE_COUNTS                                                                                          \
    "count(*) FILTER (WHERE x.class = 'hard') AS hard, count(*) FILTER (WHERE x.class = 'soft') AS soft,"      \
    " count(*) FILTER (WHERE x.class = 'policy') AS policy, count(*) FILTER (WHERE x.class = 'unknown') AS unknown," \
    " count(*) FILTER (WHERE x.class = 'complaint') AS complaints"

/*
 * The bounce rows x WHERE COND (of the parameters), by provider: a bounce of a
 * delivery the log told of is its provider's (delivery_mta's, found when the
 * log was read; one look-up by key each, not a join reading all of
 * delivery_mta), another by its address's domain, each domain looked up once
 * (provider_of_bounce, sql/033, is the same rule for one bounce).
 */
#define BOUNCES_BY_PROVIDER(cond, day)                                                                        \
    " b1 AS MATERIALIZED (SELECT " day " AS day, x.email, x.class, (SELECT coalesce(m.provider_id, 0) FROM delivery_mta m"     \
    "   WHERE m.delivery_id = x.delivery_id) AS pid FROM bounces x WHERE " cond "),"                              \
    " b0 AS (SELECT day, pid, CASE WHEN pid IS NULL THEN provider_domain_of(email) END AS dom, class FROM b1),"  \
    " bd AS (SELECT d.dom, coalesce(provider_of(d.dom), 0) AS pid FROM (SELECT DISTINCT dom FROM b0"            \
    "   WHERE dom IS NOT NULL) d),"                                                                              \
    " b AS (SELECT x.day, coalesce(x.pid, bd.pid) AS pid, " BOUNCE_COUNTS                                       \
    "   FROM b0 x LEFT JOIN bd ON bd.dom = x.dom GROUP BY 1, 2),"

static const char campaign_sql[] =
    "WITH c AS (SELECT id FROM campaigns WHERE id = $1::bigint),"
    " m AS (SELECT coalesce(x.provider_id, 0) AS pid, " MTA_COUNTS
    "   FROM delivery_mta x WHERE x.campaign_id = $1::bigint GROUP BY x.provider_id),"
    BOUNCES_BY_PROVIDER("x.campaign_id = $1::bigint", "NULL::date")
    " r AS (SELECT coalesce(m.pid, b.pid) AS pid, coalesce(m.delivered, 0) AS delivered, " ROW_JSON " AS j"
    "   FROM m FULL JOIN b ON b.pid = m.pid LEFT JOIN providers p ON p.id = coalesce(m.pid, b.pid))"
    " SELECT json_build_object('id', c.id, 'providers', (SELECT coalesce(json_agg(r.j ORDER BY r.pid = 0,"
    "   r.delivered DESC, r.j->>'provider'), '[]') FROM r)) FROM c";

/* whether ID can name a campaign (a number), else E says there is none */
static int campaign_ref(const char *id, struct store_err *e)
{
    size_t n = strlen(id);
    if (n > 0 && n <= 18 && strspn(id, "0123456789") == n)
        return STORE_OK;
    return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
}

/* store_provider_campaign - see providers.h. */
int store_provider_campaign(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (campaign_ref(id, e) < 0)
        return e->code;
    PGresult *res = pg_exec(conn, campaign_sql, 1, &id);
    return store_json_row(conn, res, out, e, "cannot count the campaign's providers", "no campaign %s", id);
}

static const char stats_sql[] =
    "WITH span AS (SELECT $1::date AS d0, $2::date AS d1),"
    " m AS (SELECT (x.at AT TIME ZONE 'UTC')::date AS day, coalesce(x.provider_id, 0) AS pid, " MTA_COUNTS
    "   FROM delivery_mta x, span WHERE x.at >= span.d0::timestamp AT TIME ZONE 'UTC'"
    "   AND x.at < (span.d1 + 1)::timestamp AT TIME ZONE 'UTC' GROUP BY 1, 2),"
    BOUNCES_BY_PROVIDER("x.received_at >= $1::date::timestamp AT TIME ZONE 'UTC'"
                        " AND x.received_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'",
                        "(x.received_at AT TIME ZONE 'UTC')::date")
    " r AS (SELECT coalesce(m.day, b.day) AS day, coalesce(m.pid, b.pid) AS pid,"
    "   (jsonb_build_object('day', coalesce(m.day, b.day)) || " ROW_JSON "::jsonb) AS j"
    "   FROM m FULL JOIN b ON b.day = m.day AND b.pid = m.pid LEFT JOIN providers p ON p.id = coalesce(m.pid, b.pid))"
    " SELECT json_build_object('since', span.d0, 'until', span.d1,"
    " 'days', (SELECT coalesce(json_agg(r.j ORDER BY r.day, r.pid = 0, r.j->>'provider'), '[]') FROM r)) FROM span";

/* store_date_of - see providers.h. */
int store_date_of(PGconn *conn, const char *value, int deflt, const char *field, char *out, struct store_err *e)
{
    char days[16];
    snprintf(days, sizeof(days), "%d", deflt);
    const char *params[] = { value, days };
    PGresult *res = pg_exec(conn,
                            "SELECT CASE WHEN $1::text IS NULL THEN (now() AT TIME ZONE 'UTC')::date + $2::int"
                            " WHEN $1 ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN $1::date END::text",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res) && strncmp(pg_sqlstate(res), "22", 2) == 0)
        rc = store_fail_field(e, field, "invalid %s \"%.40s\": not a date", field, value);
    else if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the dates");
    else if (PQgetisnull(res, 0, 0))
        rc = store_fail_field(e, field, "invalid %s \"%.40s\": a date is YYYY-MM-DD", field, value);
    else
        snprintf(out, 11, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* store_provider_stats - see providers.h. */
int store_provider_stats(PGconn *conn, const char *since, const char *until, json_t **out, struct store_err *e)
{
    char d0[11], d1[11];
    if (store_date_of(conn, until, 0, "until", d1, e) < 0)
        return e->code;
    if (!since) {
        /* the PROVIDER_STATS_DAYS days up to the end */
        const char *p[] = { d1 };
        PGresult *res = pg_exec(conn, "SELECT ($1::date - " STR(PROVIDER_STATS_DAYS) " + 1)::text", 1, p);
        int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot read the dates");
        if (rc == STORE_OK)
            snprintf(d0, sizeof(d0), "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (rc < 0)
            return rc;
    } else if (store_date_of(conn, since, 0, "since", d0, e) < 0) {
        return e->code;
    }
    if (strcmp(d0, d1) > 0)
        return store_fail_field(e, "since", "the start (%s) is after the end (%s)", d0, d1);
    const char *params[] = { d0, d1 };
    PGresult *res = pg_exec(conn, "SELECT $2::date - $1::date + 1", 2, params);
    long days = pg_ok(res) ? atol(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    if (days > PROVIDER_STATS_DAYS_MAX)
        return store_fail_field(e, "since", "at most %d days at once (%s to %s is %ld)", PROVIDER_STATS_DAYS_MAX,
                                d0, d1, days);
    res = pg_exec(conn, stats_sql, 2, params);
    return store_json_row(conn, res, out, e, "cannot count the providers", "nothing counted");
}
