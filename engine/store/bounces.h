/*
 * bounces - what came back, matched to deliveries and recorded; the policy.
 *
 * store_bounce_ingest_raw   one raw message sent to the bounce address (DSN, ARF, prose)
 * store_bounce_ingest_json  one provider webhook event {email, type, status, reason, campaign?}
 * store_bounce_ingest_signed  the same for an event from an email service's signed webhook
 * store_bounce_record_mta   a failure Postfix logged for a delivery (postino mta follow)
 * store_bounce_ls           bounces (or the unmatched reports), newest first, by campaign and class
 * store_bounce_get          one bounce with its stored original
 * store_bounce_policy_ls    the per-class threshold and action
 * store_bounce_policy_set   change one class's policy
 * store_bounce_rules_ls     the ordered rules for reports without a usable code
 * store_bounce_rule_add     add one (a bad regular expression is STORE_ERR_INVALID)
 * store_bounce_rule_rm      remove one
 *
 * Recording a bounce fires the database's bounce_apply trigger
 * (sql/004_bounces.sql), which counts the subscriber's bounces and applies the
 * class's action in the same transaction; the sender's synchronous rejections
 * go through the same trigger. Every function returns 0 or a store error
 * (STORE_ERR_DB when the database failed: the caller may retry later); JSON
 * results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_BOUNCES_H
#define POSTINO_STORE_BOUNCES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"
#include "engine/util/buf.h"

#define BOUNCE_KEEP_DEFAULT (64u << 10)   /* bytes of the original kept with a bounce */

struct bounce_intake {
    const char *envelope_to;   /* the address Postfix delivered to (${original_recipient}), or NULL */
    const char *local_part;    /* the VERP local part ([bounce] local_part): required */
    size_t keep_bytes;         /* 0: BOUNCE_KEEP_DEFAULT */
    unsigned recent_days;      /* how far back an address is matched to a delivery; 0: 30 */
    bool trusted;              /* the path vouches for the report (a pipe marked trusted, an API key);
                                  false (a mailbox, an unmarked pipe): only a valid VERP token lets it act */
};

/*
 * store_bounce_ingest_raw - read the LEN bytes at DATA (untrusted) as one
 * message to the bounce address, classify it (dsn_verdict with the bounce
 * rules), find the delivery it concerns (VERP token, then X-Postino-Delivery
 * of the returned original when the report names the same recipient, then the
 * recipient's most recent delivery) and record it. Unless IN->trusted, only a
 * report matched by a valid token (the VERP address's, or X-Postino-Delivery's
 * "ID.TOKEN") can act on the subscriber: any other is recorded with
 * unverified = true, which the policy ignores (a bare id finds the delivery
 * but proves nothing). *OUT is
 * {"matched": true, "matched_by": ..., "verified": B, "bounce": {...}} or
 * {"matched": false, "unmatched_id": N, "reason": "...", "kind": ..., "class":
 * ..., "status": ..., "email": ...}: an auto-reply, a delay warning, anything
 * that is not a bounce and a bounce that names no delivery are kept in
 * bounces_unmatched with what they say, never dropped.
 */
int store_bounce_ingest_raw(PGconn *conn, const char *data, size_t len, const struct bounce_intake *in,
                            json_t **out, struct store_err *e);

/*
 * store_bounce_ingest_json - record EVENT: email (required), type (hard, soft,
 * complaint, policy, unknown, or bounce: classified from status and reason),
 * status ("5.1.1"), reason, campaign (id). STORE_ERR_INVALID for a malformed
 * event, STORE_ERR_NOTFOUND for an unknown subscriber. *OUT is the bounce.
 */
int store_bounce_ingest_json(PGconn *conn, json_t *event, json_t **out, struct store_err *e);

/*
 * bounce_text_clean - LEN bytes of S (untrusted) as text PostgreSQL takes,
 * into OUT (reset first): NULs dropped, bytes that are not UTF-8 as '?'.
 */
void bounce_text_clean(struct buf *out, const char *s, size_t len);

/*
 * store_bounce_ingest_signed - store_bounce_ingest_json for an event from an
 * email service's webhook whose signature was checked (api/h_hooks.c): a
 * trusted path, whose events may suppress an address as the local Postfix
 * pipe's reports do.
 */
int store_bounce_ingest_signed(PGconn *conn, json_t *event, json_t **out, struct store_err *e);

/*
 * store_bounce_record_mta - record that Postfix's log shows DELIVERY bounced
 * or expired (STATUS "5.1.1", REASON the logged text, HOST the receiving
 * server or NULL), classified as a DSN with that status and text would be.
 * One bounce per delivery whichever comes first: nothing is recorded when the
 * delivery has a bounce already (its DSN came first), and a DSN that comes
 * later is attached to this row (store_bounce_ingest_raw). Runs in the
 * caller's transaction. *RECORDED says whether a row was added.
 */
int store_bounce_record_mta(PGconn *conn, long long delivery, const char *status, const char *reason,
                            const char *host, bool *recorded, struct store_err *e);

struct bounce_filter {
    bool unmatched;       /* the reports recorded as no bounce (bounces_unmatched) instead; campaign unused */
    long long campaign;   /* 0: any */
    const char *cls;      /* NULL: any */
    long long before;     /* keyset: ids below this; 0: from the newest */
    long limit;           /* 0: 100 */
};

int store_bounce_ls(PGconn *conn, const struct bounce_filter *f, json_t **out, struct store_err *e);
int store_bounce_get(PGconn *conn, long long id, json_t **out, struct store_err *e);
int store_bounce_policy_ls(PGconn *conn, json_t **out, struct store_err *e);

/* store_bounce_policy_set - CLS's THRESHOLD (0: keep), ACTION (NULL: keep), CONSECUTIVE (-1: keep). */
int store_bounce_policy_set(PGconn *conn, const char *cls, int threshold, const char *action, int consecutive,
                            json_t **out, struct store_err *e);
int store_bounce_rules_ls(PGconn *conn, json_t **out, struct store_err *e);
/* store_bounce_rule_add - BEATS_CODE: the rule decides even over a specific status code. */
int store_bounce_rule_add(PGconn *conn, int position, const char *pattern, const char *cls, bool beats_code,
                          const char *description, json_t **out, struct store_err *e);
int store_bounce_rule_rm(PGconn *conn, long long id, struct store_err *e);

#endif
