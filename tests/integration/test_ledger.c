/*
 * test_ledger - the sender's claim statement against a real server
 * (POSTINO_TEST_DB): which rows it takes, in which order, what it skips, and
 * that it reads only the rows it claims; its record statement: a failure of
 * the message itself (LEDGER_CLASS_LOCAL) records no bounce; renewing and
 * giving back a sender's leases. Each case runs in a transaction that
 * is rolled back, so the shared database is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/store/ledger.h"
#include "engine/store/pg.h"

static PGconn *conn;

static void exec_ok(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static long long scalar(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    long long v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* claim up to LIMIT rows for OWNER; the result is the caller's */
static PGresult *claim(const char *owner, const char *limit)
{
    const char *params[] = { owner, limit, "300" };
    PGresult *r = PQexecParams(conn, ledger_claim_sql, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("claim: %s", PQresultErrorMessage(r));
    return r;
}

/* the e-mail addresses of a claim's rows, comma-separated (a claim returns them by delivery id) */
static void emails(PGresult *r, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 0; i < PQntuples(r); i++) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", i ? "," : "", PQgetvalue(r, i, CLAIM_EMAIL));
    }
}

/*
 * A list with subscribers s1..s6, a running campaign A (s1..s4 queued, s1 and
 * s2 due earliest), a paused campaign P whose row is due before all others,
 * a later running campaign B (s5) and a transactional campaign T (s6, queued
 * last of all).
 */
static int fixture(void **state)
{
    (void)state;
    exec_ok("BEGIN");
    exec_ok("INSERT INTO lists (name) VALUES ('ledger-test')");
    exec_ok("INSERT INTO subscribers (email, name) SELECT 's' || i || '@ledger.example', 'S' || i"
            " FROM generate_series(1, 6) i");
    exec_ok("INSERT INTO subscriptions (subscriber_id, list_id, status)"
            " SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l"
            " WHERE s.email LIKE '%@ledger.example' AND l.name = 'ledger-test'");
    exec_ok("INSERT INTO campaigns (name, subject, from_addr, html, status, kind) VALUES"
            " ('ledger-A', 'A', 'a@ledger.example', 'x', 'running', 'campaign'),"
            " ('ledger-P', 'P', 'a@ledger.example', 'x', 'paused', 'campaign'),"
            " ('ledger-B', 'B', 'a@ledger.example', 'x', 'running', 'campaign'),"
            " ('ledger-T', 'T', 'a@ledger.example', 'x', 'running', 'tx')");
    exec_ok("INSERT INTO campaign_lists SELECT c.id, l.id FROM campaigns c, lists l"
            " WHERE c.name LIKE 'ledger-%' AND c.kind = 'campaign' AND l.name = 'ledger-test'");
    exec_ok("INSERT INTO deliveries (campaign_id, subscriber_id, list_id, next_attempt_at)"
            " SELECT c.id, s.id, l.id, now() - (x.age || ' minutes')::interval"
            " FROM (VALUES (1, 'ledger-A', 's1', 30), (2, 'ledger-A', 's2', 29), (3, 'ledger-A', 's3', 10),"
            "   (4, 'ledger-A', 's4', 9), (5, 'ledger-P', 's1', 60), (6, 'ledger-B', 's5', 50)) x(n, camp, sub, age)"
            " JOIN campaigns c ON c.name = x.camp JOIN subscribers s ON s.email = x.sub || '@ledger.example'"
            " JOIN lists l ON l.name = 'ledger-test' ORDER BY x.n"); /* ids in this order, whatever the join's plan */
    exec_ok("INSERT INTO deliveries (campaign_id, subscriber_id, data, next_attempt_at)"
            " SELECT c.id, s.id, '{}', now() FROM campaigns c, subscribers s"
            " WHERE c.name = 'ledger-T' AND s.email = 's6@ledger.example'");
    exec_ok("UPDATE campaigns c SET n_total = x.n, n_queued = x.n FROM (SELECT campaign_id, count(*) n"
            " FROM deliveries GROUP BY campaign_id) x WHERE x.campaign_id = c.id AND c.name LIKE 'ledger-%'");
    return 0;
}

/* every case ends here, failed or not */
static int rollback(void **state)
{
    (void)state;
    PQclear(PQexec(conn, "ROLLBACK"));
    return 0;
}

static void test_claim_takes_transactional_first_then_campaigns_oldest_first(void **state)
{
    (void)state;
    char got[512];
    PGresult *r = claim("t1", "3");
    emails(r, got, sizeof(got));
    /* T's message (the last id) although queued last; then A's two earliest; P's never */
    assert_string_equal(got, "s1@ledger.example,s2@ledger.example,s6@ledger.example");
    PQclear(r);
    r = claim("t1", "10");
    emails(r, got, sizeof(got));
    assert_string_equal(got, "s3@ledger.example,s4@ledger.example,s5@ledger.example");
    PQclear(r);
    r = claim("t2", "10");
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                            " WHERE c.name LIKE 'ledger-%' AND d.lease_owner = 't1'"), 6);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                            " WHERE c.name = 'ledger-P' AND d.lease_owner IS NULL"), 1);
}

static void test_claim_leaves_rows_not_due_and_leased_and_takes_expired_leases(void **state)
{
    (void)state;
    char got[512];
    exec_ok("UPDATE deliveries d SET next_attempt_at = now() + interval '1 hour' FROM subscribers s"
            " WHERE s.id = d.subscriber_id AND s.email = 's1@ledger.example'");
    exec_ok("UPDATE deliveries d SET lease_owner = 'other', lease_until = now() + interval '1 minute'"
            " FROM subscribers s WHERE s.id = d.subscriber_id AND s.email = 's2@ledger.example'");
    exec_ok("UPDATE deliveries d SET lease_owner = 'gone', lease_until = now() - interval '1 second'"
            " FROM subscribers s WHERE s.id = d.subscriber_id AND s.email = 's3@ledger.example'");
    PGresult *r = claim("t1", "10");
    emails(r, got, sizeof(got));
    assert_string_equal(got, "s3@ledger.example,s4@ledger.example,s5@ledger.example,s6@ledger.example");
    PQclear(r);
}

/*
 * Renewing and giving back find a sender's leases at the head of each
 * campaign's due rows (sender_leases, sql/039): an expired lease not claimed
 * again is renewed too, another sender's is left alone; rows given back are
 * claimable at once and keep a lease_until, so the head stays unbroken.
 */
static void test_renew_and_give_back_find_the_sender_leases(void **state)
{
    (void)state;
    char got[512];
    PQclear(claim("t1", "3"));   /* s1, s2 (A) and s6 (T) */
    PQclear(claim("t2", "1"));   /* s3 */
    exec_ok("UPDATE deliveries d SET lease_until = now() - interval '1 second' FROM subscribers s"
            " WHERE s.id = d.subscriber_id AND s.email = 's2@ledger.example'");
    const char *params[] = { "t1", "600" };
    PGresult *r = PQexecParams(conn, ledger_renew_sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("renew: %s", PQresultErrorMessage(r));
    assert_string_equal(PQcmdTuples(r), "3");
    PQclear(r);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE lease_owner = 't1'"
                            " AND lease_until > now() + interval '500 seconds'"), 3);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE lease_owner = 't2'"
                            " AND lease_until < now() + interval '400 seconds'"), 1);
    assert_int_equal(scalar("SELECT sender_give_back('t1')"), 3);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE lease_owner = 't1'"), 0);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                            " WHERE c.name LIKE 'ledger-%' AND d.lease_until = '-infinity'"), 3);
    r = claim("t3", "10");
    emails(r, got, sizeof(got));
    assert_string_equal(got, "s1@ledger.example,s2@ledger.example,s4@ledger.example,s5@ledger.example,"
                             "s6@ledger.example");
    PQclear(r);
}

static void test_claim_skips_who_no_longer_counts_and_moves_the_counters(void **state)
{
    (void)state;
    char got[512];
    exec_ok("UPDATE subscriptions sl SET status = 'unsubscribed' FROM subscribers s"
            " WHERE s.id = sl.subscriber_id AND s.email = 's2@ledger.example'");
    exec_ok("UPDATE subscribers SET status = 'blocklisted' WHERE email IN ('s3@ledger.example', 's6@ledger.example')");
    PGresult *r = claim("t1", "10");
    emails(r, got, sizeof(got));
    assert_string_equal(got, "s1@ledger.example,s4@ledger.example,s5@ledger.example");
    PQclear(r);
    assert_int_equal(scalar("SELECT n_skipped * 100 + n_queued FROM campaigns WHERE name = 'ledger-A'"), 202);
    assert_int_equal(scalar("SELECT n_skipped * 100 + n_queued FROM campaigns WHERE name = 'ledger-T'"), 100);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                            " WHERE c.name LIKE 'ledger-%' AND d.state = 'skipped' AND d.lease_owner IS NULL"), 3);
}

/* the id of the delivery to EMAIL among the claim's rows R */
static const char *claimed_id(PGresult *r, const char *email)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, CLAIM_EMAIL), email) == 0)
            return PQgetvalue(r, i, CLAIM_ID);
    fail_msg("%s was not claimed", email);
    return NULL;
}

/*
 * A failure of class LEDGER_CLASS_LOCAL (the message could not be composed)
 * fails the delivery with its reason and adds no bounce; a relay's 5xx adds
 * one.
 */
static void test_record_local_failure_adds_no_bounce(void **state)
{
    (void)state;
    PGresult *r = claim("t1", "10");
    struct ledger_batch b;
    const char *params[LEDGER_RECORD_NPARAMS];
    ledger_batch_init(&b);
    ledger_batch_add(&b, &(struct ledger_result){ .id = strtoull(claimed_id(r, "s1@ledger.example"), NULL, 10),
                                                  .state = "failed", .code = 0, .enhanced = "",
                                                  .reply = "cannot compose: the recipient's name holds a control character",
                                                  .queue_id = "", .cls = LEDGER_CLASS_LOCAL, .relay = "" });
    ledger_batch_add(&b, &(struct ledger_result){ .id = strtoull(claimed_id(r, "s2@ledger.example"), NULL, 10),
                                                  .state = "failed", .code = 550, .enhanced = "5.1.1",
                                                  .reply = "no such user", .queue_id = "", .cls = "hard",
                                                  .relay = "local" });
    PQclear(r);
    ledger_batch_params(&b, "t1", "259200", params);
    r = PQexecParams(conn, ledger_record_sql, LEDGER_RECORD_NPARAMS, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("record: %s", PQresultErrorMessage(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    ledger_batch_free(&b);
    r = PQexec(conn, "SELECT d.state || '|' || d.smtp_code || '|' || d.smtp_reply || '|' || d.attempts"
                     " || '|' || (SELECT count(*) FROM bounces b WHERE b.delivery_id = d.id)"
                     " FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
                     " JOIN campaigns c ON c.id = d.campaign_id"
                     " WHERE c.name = 'ledger-A' AND s.email IN ('s1@ledger.example', 's2@ledger.example')"
                     " ORDER BY s.email");
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "failed|0|cannot compose: the recipient's name holds a control character|1|0");
    assert_string_equal(PQgetvalue(r, 1, 0), "failed|550|no such user|1|1");
    PQclear(r);
    assert_int_equal(scalar("SELECT n_failed * 100 + n_queued FROM campaigns WHERE name = 'ledger-A'"), 202);
    assert_int_equal(scalar("SELECT count(*) FROM subscribers WHERE email = 's1@ledger.example' AND status = 'enabled'"), 1);
}

/*
 * A provider paced at 20 a minute (a burst of 2): a claim of 10 leases the
 * first 2 by id; the other 4 stay queued, unleased, held for the pace, each
 * due 3 s after the one before (the pace's gap), the first 3 s from now; the
 * counters do not move; the pace counts 2 let go and 4 held.
 */
static void test_claim_holds_what_a_provider_pace_is_over(void **state)
{
    (void)state;
    char got[512];
    exec_ok("INSERT INTO providers (name, per_minute) VALUES ('ledgerp', 20)");
    exec_ok("INSERT INTO provider_domains (pattern, provider_id) SELECT 'ledger.example', id FROM providers"
            " WHERE name = 'ledgerp'");
    PGresult *r = claim("t1", "10");
    emails(r, got, sizeof(got));
    assert_string_equal(got, "s1@ledger.example,s2@ledger.example");
    PQclear(r);
    r = PQexec(conn, "SELECT string_agg(round(extract(epoch FROM d.next_attempt_at - clock_timestamp()))::text, ','"
                     "   ORDER BY d.id) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                     " WHERE c.name <> 'ledger-P' AND d.held_for = 'pace' AND d.state = 'queued' AND d.lease_owner IS NULL");
    assert_string_equal(PQgetvalue(r, 0, 0), "3,6,9,12");
    PQclear(r);
    assert_int_equal(scalar("SELECT n_queued * 100 + n_sent FROM campaigns WHERE name = 'ledger-A'"), 400);
    assert_int_equal(scalar("SELECT handed * 100 + held FROM provider_pace s JOIN providers p ON p.id = s.provider_id"
                            " WHERE p.name = 'ledgerp'"), 204);
    r = claim("t2", "10");
    assert_int_equal(PQntuples(r), 0);   /* none due yet */
    PQclear(r);
}

/*
 * A warm-up of the campaigns' sending domain with a cap of 3 today: a claim
 * of 10 leases 3; the rest wait for the next UTC day's midnight, naming the
 * warm-up; the day's count is 3; another claim takes nothing.
 */
static void test_claim_holds_over_a_warmup_cap_until_the_next_utc_day(void **state)
{
    (void)state;
    exec_ok("INSERT INTO warmups (target, days) VALUES ('ledger.example', '{3,6}')");
    PGresult *r = claim("t1", "10");
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                            " WHERE c.name <> 'ledger-P' AND d.held_for = 'warmup:ledger.example' AND d.lease_owner IS NULL"
                            " AND d.next_attempt_at = ((clock_timestamp() AT TIME ZONE 'UTC')::date + 1)::timestamp"
                            "   AT TIME ZONE 'UTC'"), 3);
    assert_int_equal(scalar("SELECT n FROM warmup_counts WHERE target = 'ledger.example'"), 3);
    r = claim("t2", "10");
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
}

/*
 * A warm-up's cap full for today holds the newsletters back, never a
 * transactional message (a password reset cannot wait for tomorrow): it goes,
 * and counts.
 */
static void test_claim_lets_transactional_mail_past_a_full_warmup_cap(void **state)
{
    (void)state;
    exec_ok("INSERT INTO warmups (target, days) VALUES ('ledger.example', '{3,6}')");
    exec_ok("INSERT INTO warmup_counts (target, day, n) VALUES ('ledger.example', (now() AT TIME ZONE 'UTC')::date, 3)");
    PGresult *r = claim("t1", "10");
    assert_int_equal(PQntuples(r), 1);
    assert_non_null(claimed_id(r, "s6@ledger.example"));
    PQclear(r);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE held_for = 'warmup:ledger.example'"), 5);
    assert_int_equal(scalar("SELECT n FROM warmup_counts WHERE target = 'ledger.example'"), 4);
}

/*
 * Held back before its first attempt, a delivery's age for [send] max_age
 * counts from its turn (requeued_at = the hold's end), so that days waiting
 * for a warm-up and one deferral do not fail it at once; one tried before
 * keeps the age it had.
 */
static void test_claim_hold_starts_the_age_of_a_first_attempt_at_its_turn(void **state)
{
    (void)state;
    exec_ok("INSERT INTO warmups (target, days) VALUES ('ledger.example', '{3,6}')");
    exec_ok("UPDATE deliveries d SET attempts = 1, state = 'deferred' FROM subscribers s"
            " WHERE s.id = d.subscriber_id AND s.email = 's4@ledger.example'");
    exec_ok("UPDATE campaigns c SET n_queued = n_queued - 1, n_deferred = n_deferred + 1 WHERE c.name = 'ledger-A'");
    PGresult *r = claim("t1", "10");
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE held_for = 'warmup:ledger.example'"), 3);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE held_for = 'warmup:ledger.example'"
                            " AND attempts = 0 AND requeued_at = next_attempt_at AND requeued_at > now()"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
                            " WHERE s.email = 's4@ledger.example' AND d.held_for = 'warmup:ledger.example'"
                            " AND d.requeued_at IS NULL"), 1);
}

/*
 * Two 421s from the relay itself (4.7.0: a rate text for every provider),
 * recorded as deferrals, reach the provider's threshold of 2: its rate is
 * halved from its pace of 60 to 30, the reason the relay's reply.
 */
static void test_record_421_from_the_relay_halves_the_provider(void **state)
{
    (void)state;
    exec_ok("INSERT INTO providers (name, per_minute, aimd_threshold) VALUES ('ledgerp', 60, 2)");
    exec_ok("INSERT INTO provider_domains (pattern, provider_id) SELECT 'ledger.example', id FROM providers"
            " WHERE name = 'ledgerp'");
    PGresult *r = claim("t1", "10");
    struct ledger_batch b;
    const char *params[LEDGER_RECORD_NPARAMS];
    ledger_batch_init(&b);
    for (int i = 1; i <= 2; i++) {
        char email[32];
        snprintf(email, sizeof(email), "s%d@ledger.example", i);
        ledger_batch_add(&b, &(struct ledger_result){ .id = strtoull(claimed_id(r, email), NULL, 10),
                                                      .state = "deferred", .code = 421, .enhanced = "4.7.0",
                                                      .reply = "Try again later, closing connection", .queue_id = "",
                                                      .cls = "soft", .delay_s = 60, .relay = "local" });
    }
    PQclear(r);
    ledger_batch_params(&b, "t1", "259200", params);
    r = PQexecParams(conn, ledger_record_sql, LEDGER_RECORD_NPARAMS, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("record: %s", PQresultErrorMessage(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    ledger_batch_free(&b);
    r = PQexec(conn, "SELECT e.kind || '|' || e.rate_from || '|' || e.rate_to || '|' || e.deferrals || '|' || e.reason"
                     " || '|' || s.rate FROM provider_pace_events e JOIN providers p ON p.id = e.provider_id"
                     " JOIN provider_pace s ON s.provider_id = p.id WHERE p.name = 'ledgerp'");
    assert_int_equal(PQntuples(r), 1);
    assert_string_equal(PQgetvalue(r, 0, 0), "halved|60|30|2|421 4.7.0 Try again later, closing connection|30");
    PQclear(r);
}

/*
 * Two claims in a row, each holding what the pace is over: the second's
 * turns come after the first's (a queue), not at the same times.
 */
static void test_claim_gives_held_deliveries_turns_after_those_held_before(void **state)
{
    (void)state;
    exec_ok("INSERT INTO providers (name, per_minute) VALUES ('ledgerp', 20)");
    exec_ok("INSERT INTO provider_domains (pattern, provider_id) SELECT 'ledger.example', id FROM providers"
            " WHERE name = 'ledgerp'");
    PGresult *r = claim("t1", "3");   /* T's s6, then A's s1 and s2: s1 and s2 go, s6 waits */
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    r = claim("t2", "10");            /* s3, s4, s5: all wait, after s6 */
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    r = PQexec(conn, "SELECT string_agg(s.email || '@' || round(extract(epoch FROM d.next_attempt_at - clock_timestamp())),"
                     "   ',' ORDER BY d.next_attempt_at) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                     " JOIN subscribers s ON s.id = d.subscriber_id WHERE c.name <> 'ledger-P' AND d.held_for = 'pace'");
    assert_string_equal(PQgetvalue(r, 0, 0), "s6@ledger.example@3,s3@ledger.example@6,s4@ledger.example@9,"
                                             "s5@ledger.example@12");
    PQclear(r);
}

/* A pace of 4 an hour: a claim leases 4, the rest wait a quarter of an hour apart (the hour's gap). */
static void test_claim_holds_over_a_pace_per_hour(void **state)
{
    (void)state;
    exec_ok("INSERT INTO providers (name, per_hour) VALUES ('ledgerp', 4)");
    exec_ok("INSERT INTO provider_domains (pattern, provider_id) SELECT 'ledger.example', id FROM providers"
            " WHERE name = 'ledgerp'");
    PGresult *r = claim("t1", "10");
    assert_int_equal(PQntuples(r), 4);
    PQclear(r);
    r = PQexec(conn, "SELECT string_agg(round(extract(epoch FROM d.next_attempt_at - clock_timestamp()))::text, ','"
                     "   ORDER BY d.id) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                     " WHERE c.name <> 'ledger-P' AND d.held_for = 'pace' AND d.lease_owner IS NULL");
    assert_string_equal(PQgetvalue(r, 0, 0), "900,1800");
    PQclear(r);
}

/*
 * A provider halved to 30 of 60 a minute three minutes ago, with no rate
 * deferral since: the next claim raises it by three tenths of 60 (48); ten
 * minutes ago: back to full pace, and that is an event.
 */
static void test_claim_raises_a_slowed_provider_a_tenth_a_minute(void **state)
{
    (void)state;
    exec_ok("INSERT INTO providers (name, per_minute) VALUES ('ledgerp', 60)");
    exec_ok("INSERT INTO provider_domains (pattern, provider_id) SELECT 'ledger.example', id FROM providers"
            " WHERE name = 'ledgerp'");
    exec_ok("INSERT INTO provider_pace (provider_id, rate, ceiling, rate_at) SELECT id, 30, 60,"
            " clock_timestamp() - interval '3 minutes 1 second' FROM providers WHERE name = 'ledgerp'");
    PQclear(claim("t1", "1"));
    assert_int_equal(scalar("SELECT s.rate FROM provider_pace s JOIN providers p ON p.id = s.provider_id"
                            " WHERE p.name = 'ledgerp'"), 48);
    exec_ok("UPDATE provider_pace SET rate_at = clock_timestamp() - interval '10 minutes'");
    PQclear(claim("t1", "1"));
    assert_int_equal(scalar("SELECT count(*) FROM provider_pace s JOIN providers p ON p.id = s.provider_id"
                            " WHERE p.name = 'ledgerp' AND s.rate IS NULL AND s.ceiling IS NULL"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM provider_pace_events e JOIN providers p ON p.id = e.provider_id"
                            " WHERE p.name = 'ledgerp' AND e.kind = 'restored' AND e.rate_to = 60"), 1);
}

static void check_claim_plan(const char *what, int leased);

/*
 * With a backlog of 20,000 rows and no statistics gathered since they were
 * written (as right after `campaign send`), a claim of 100 walks the due index
 * of its campaign and stops: it neither scans the table nor sorts the backlog.
 */
static void test_claim_reads_only_what_it_claims(void **state)
{
    (void)state;
    exec_ok("INSERT INTO subscribers (email) SELECT 'b' || i || '@ledger.example' FROM generate_series(1, 20000) i");
    exec_ok("INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT s.id, l.id, 'confirmed'"
            " FROM subscribers s, lists l WHERE s.email LIKE 'b%@ledger.example' AND l.name = 'ledger-test'");
    exec_ok("INSERT INTO deliveries (campaign_id, subscriber_id, list_id) SELECT c.id, s.id, l.id"
            " FROM campaigns c, subscribers s, lists l WHERE c.name = 'ledger-B'"
            " AND s.email LIKE 'b%@ledger.example' AND l.name = 'ledger-test'");
    PGresult *r = PQprepare(conn, "claim_plan", ledger_claim_sql, 3, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    /* the plan made for these values, then the one for any values, which the sender uses */
    check_claim_plan("", 100);
    exec_ok("SET LOCAL plan_cache_mode = force_generic_plan");
    check_claim_plan("generic ", 200);
}

static void check_claim_plan(const char *what, int leased)
{
    PGresult *r = PQexec(conn, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE claim_plan('t1', 100, 300)");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    char plan[16384] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        size_t n = strlen(plan);
        snprintf(plan + n, sizeof(plan) - n, "%s\n", PQgetvalue(r, i, 0));
    }
    PQclear(r);
    if (strstr(plan, "Seq Scan on deliveries") || !strstr(plan, "Index Scan using deliveries_due_idx"))
        fail_msg("the %sclaim plan does not walk the due index:\n%s", what, plan);
    /* the index scan stops at the batch: at most 100 rows per campaign walked */
    const char *scan = strstr(plan, "Index Scan using deliveries_due_idx");
    const char *rows = strstr(scan, "rows=");
    assert_non_null(rows);
    if (atoi(rows + 5) > 100)
        fail_msg("the %sclaim plan's due index scan read %d rows:\n%s", what, atoi(rows + 5), plan);
    assert_int_equal(scalar("SELECT count(*) FROM deliveries WHERE lease_owner = 't1'"), leased);
}

int main(void)
{
    const char *ci = getenv("POSTINO_TEST_DB");
    if (!ci) {
        fprintf(stderr, "test_ledger: POSTINO_TEST_DB is not set\n");
        return 1;
    }
    char err[512];
    conn = pg_connect(ci, err, sizeof(err));
    if (!conn) {
        fprintf(stderr, "test_ledger: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_takes_transactional_first_then_campaigns_oldest_first, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_leaves_rows_not_due_and_leased_and_takes_expired_leases, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_skips_who_no_longer_counts_and_moves_the_counters, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_reads_only_what_it_claims, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_record_local_failure_adds_no_bounce, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_renew_and_give_back_find_the_sender_leases, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_holds_what_a_provider_pace_is_over, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_holds_over_a_warmup_cap_until_the_next_utc_day, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_hold_starts_the_age_of_a_first_attempt_at_its_turn, fixture,
                                        rollback),
        cmocka_unit_test_setup_teardown(test_claim_lets_transactional_mail_past_a_full_warmup_cap, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_record_421_from_the_relay_halves_the_provider, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_gives_held_deliveries_turns_after_those_held_before, fixture,
                                        rollback),
        cmocka_unit_test_setup_teardown(test_claim_holds_over_a_pace_per_hour, fixture, rollback),
        cmocka_unit_test_setup_teardown(test_claim_raises_a_slowed_provider_a_tenth_a_minute, fixture, rollback),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(conn);
    return rc;
}
