/*
 * abtests - a campaign's A/B test in the store (sql/026_ab_tests.sql).
 *
 * store_ab_save        replace campaign ID's test (NULL: none) inside the caller's transaction
 * store_ab_show        the test: its settings, the variants' results, the winner
 * store_ab_pick        send the winner to the rest: one transaction that makes every held
 *                      delivery queued with the winning variant (0: the best by the test's metric)
 * store_ab_decide_due  pick the winner of every running automatic test whose window has passed
 *
 * AB_JSON(C) and AB_RESULTS_JSON(ID) are SQL expressions for the campaign's
 * stored JSON ("ab", as abtest_parse reads it back) and for the results that
 * stats and the report show (NULL for a campaign with no test).
 */
#ifndef POSTINO_STORE_ABTESTS_H
#define POSTINO_STORE_ABTESTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/mail/abtest.h"
#include "engine/store/store.h"

/* the sample as given: "20%" or a count */
#define AB_SAMPLE_JSON(a) \
    "CASE WHEN " a ".sample_pct IS NOT NULL THEN to_json(" a ".sample_pct || '%') ELSE to_json(" a ".sample_count) END"

/* campaign C's test as stored (C: SQL naming the campaigns row) */
#define AB_JSON(c)                                                                                                   \
    "(SELECT json_build_object('variants', (SELECT json_agg(json_build_object('n', v.n, 'subject', v.subject,"      \
    "   'html', v.html, 'from_name', v.from_name) ORDER BY v.n) FROM campaign_variants v"                         \
    "   WHERE v.campaign_id = a.campaign_id), 'sample', " AB_SAMPLE_JSON("a") ", 'metric', a.metric,"              \
    " 'window', a.window_s, 'pick', a.pick, 'test_size', a.test_size, 'winner', a.winner,"                       \
    " 'decided_at', a.decided_at, 'decided_by', a.decided_by)"                                                    \
    " FROM campaign_ab a WHERE a.campaign_id = " c ".id)"

/*
 * The test's results, campaign ID (SQL for its id): each variant's
 * recipients, sent, unique opens and clicks and their rates (per cent of
 * sent), the held rest, when the window ends, the winner. Unique opens and
 * clicks are deliveries that opened or clicked. Each variant's deliveries
 * are read through deliveries_variant_idx, its opens and clicks from the
 * campaign's own (as many as there were, whatever the audience's size).
 */
#define AB_RESULTS_JSON(id)                                                                                          \
    "(SELECT json_build_object('metric', a.metric, 'sample', " AB_SAMPLE_JSON("a") ", 'window_s', a.window_s,"    \
    " 'pick', a.pick, 'test_size', a.test_size, 'held', cp.n_held,"                                                \
    " 'window_ends_at', cp.started_at + make_interval(secs => a.window_s),"                                        \
    " 'winner', a.winner, 'decided_at', a.decided_at, 'decided_by', a.decided_by,"                                 \
    " 'variants', (SELECT json_agg(json_build_object('n', v.n, 'subject', v.subject, 'from_name', v.from_name,"   \
    "   'own_body', v.html IS NOT NULL, 'recipients', r.recipients, 'sent', r.sent, 'opens', o.n,"                 \
    "   'clicks', k.n, 'open_rate', CASE WHEN r.sent > 0 THEN round(100.0 * o.n / r.sent, 1) END,"               \
    "   'click_rate', CASE WHEN r.sent > 0 THEN round(100.0 * k.n / r.sent, 1) END) ORDER BY v.n)"              \
    "   FROM campaign_variants v"                                                                                   \
    "   CROSS JOIN LATERAL (SELECT count(*) AS recipients, count(*) FILTER (WHERE d.state = 'sent') AS sent"        \
    "     FROM deliveries d WHERE d.campaign_id = " id " AND d.variant = v.n) r"                                   \
    "   CROSS JOIN LATERAL (SELECT count(*) AS n FROM opens x JOIN deliveries d ON d.id = x.delivery_id"            \
    "     WHERE x.campaign_id = " id " AND d.variant = v.n) o"                                                     \
    "   CROSS JOIN LATERAL (SELECT count(DISTINCT x.delivery_id) AS n FROM clicks x"                                \
    "     JOIN deliveries d ON d.id = x.delivery_id WHERE x.campaign_id = " id " AND d.variant = v.n) k"          \
    "   WHERE v.campaign_id = a.campaign_id))"                                                                     \
    " FROM campaign_ab a JOIN campaigns cp ON cp.id = a.campaign_id WHERE a.campaign_id = " id ")"

/*
 * store_ab_save - campaign ID's test becomes AB (NULL: none), its variants'
 * bodies as given (HTML). Runs inside the caller's transaction; 0 or STORE_ERR_DB.
 */
int store_ab_save(PGconn *conn, const char *id, const struct abtest *ab, struct store_err *e);

/* store_ab_show - campaign ID's test and results into *OUT; STORE_ERR_NOTFOUND when it has none */
int store_ab_show(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_ab_pick - variant WINNER (1..4; 0: the one with the most unique opens
 * or clicks, as the test says, a tie to the lower number) wins campaign ID's
 * test: in one transaction every held delivery becomes queued with it and
 * the test records the winner, BY ("auto" or "manual") and the time. A crash
 * before the commit leaves everything held, as before. Refused: no test
 * (STORE_ERR_NOTFOUND), not started, cancelled, a variant it does not have
 * (STORE_ERR_INVALID, field "variant"), a winner already picked
 * (STORE_ERR_CONFLICT). *OUT: store_ab_show's answer afterwards.
 *
 * For the crash test only: with POSTINO_TEST_AB_SWITCH=die in the
 * environment, the process kills itself (SIGKILL) after the switch's
 * statement and before its commit.
 */
int store_ab_pick(PGconn *conn, const char *id, int winner, const char *by, json_t **out, struct store_err *e);

/*
 * store_ab_decide_due - pick the winner (store_ab_pick, by "auto") of every
 * running campaign whose automatic test's window has passed; *N how many
 * were picked. 0, or the first failure's code (the others are still tried).
 */
int store_ab_decide_due(PGconn *conn, size_t *n, struct store_err *e);

#endif
