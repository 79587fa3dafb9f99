/*
 * pacing - a provider's pace and its adaptive state, the texts that mean
 * "too fast", and warm-up schedules (sql/036_provider_pacing.sql; the claim
 * applies them). The same JSON for the CLI, the API and the admin.
 *
 * store_provider_pace     set or clear a provider's limits and AIMD settings
 * store_rate_text_ls      the deferral texts that mean rate or reputation
 * store_rate_text_add     one more (for a provider, or every provider)
 * store_rate_text_rm      one less
 * store_warmup_set        make or change a warm-up (caps or a named curve)
 * store_warmup_ls         every warm-up
 * store_warmup_get        one
 * store_warmup_rm         remove one
 * store_warmup_curves     the named curves
 * store_pace_campaign     a campaign's pacing: providers paced or slowed,
 *                         what is held for a pace, what waits for a warm-up
 * store_warmup_waiting    what waits for a later day's warm-up in running
 *                         campaigns: how many, until when
 *
 * A provider's pace JSON (the "pace" of a provider): {per_minute, per_hour
 * (null: none), rate_per_minute (in force; null: none), slowed, full_rate,
 * slowed_at, aimd_threshold, aimd_window_s, handed, held, rate_deferrals (in
 * the window), events: [{at, kind ("halved", "restored"), rate_from,
 * rate_to, deferrals, reason}], rate_texts}. A warm-up's: {target, days,
 * curve, starts_on, day, cap_today, sent_today, cap_tomorrow, done,
 * waiting, waiting_until, created_at, updated_at}. Bad input is
 * STORE_ERR_INVALID on its field; JSON results are the caller's to
 * json_decref().
 */
#ifndef POSTINO_STORE_PACING_H
#define POSTINO_STORE_PACING_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

#define PACE_KEEP (-1L)   /* a field of struct pace_edit left as it is */
#define PACE_CLEAR 0L     /* a limit cleared */
#define PACE_RATE_MAX 10000000L

/* A change of a provider's pace: each field PACE_KEEP to keep it. */
struct pace_edit {
    long per_minute, per_hour;          /* PACE_CLEAR: no limit */
    long aimd_threshold, aimd_window_s;
    bool reset;                         /* back to full pace now, the window's deferrals forgotten */
};

/* store_provider_pace - apply ED to provider REF (name or id); *OUT is the provider's JSON with its "pace". */
int store_provider_pace(PGconn *conn, const char *ref, const struct pace_edit *ed, json_t **out, struct store_err *e);

/* store_rate_text_ls - *OUT is [{id, provider (a name, or null: every provider), pattern}]. */
int store_rate_text_ls(PGconn *conn, json_t **out, struct store_err *e);
/* store_rate_text_add - PATTERN for provider REF (NULL: every provider); *OUT is the new row's JSON. */
int store_rate_text_add(PGconn *conn, const char *ref, const char *pattern, json_t **out, struct store_err *e);
/* store_rate_text_rm - remove PATTERN of provider REF (NULL: every provider's own). */
int store_rate_text_rm(PGconn *conn, const char *ref, const char *pattern, struct store_err *e);

/*
 * store_warmup_set - a warm-up for TARGET (a sending domain or relay:NAME)
 * with the caps DAYS ("50,100,500") or the named curve CURVE (one of them,
 * the other NULL), starting on START ("YYYY-MM-DD", NULL: today, UTC; a
 * change keeps its start unless given). *OUT is its JSON; *CREATED tells.
 * What waited for it is due again (the next claim counts it against the new
 * caps: a cap raised today lets more go today).
 */
int store_warmup_set(PGconn *conn, const char *target, const char *days, const char *curve, const char *start,
                     json_t **out, bool *created, struct store_err *e);
int store_warmup_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_warmup_get(PGconn *conn, const char *target, json_t **out, struct store_err *e);
int store_warmup_rm(PGconn *conn, const char *target, struct store_err *e);
/* store_warmup_curves - *OUT is [{name, days}]. */
int store_warmup_curves(PGconn *conn, json_t **out, struct store_err *e);

/* store_pace_campaign - *OUT is campaign ID's pacing (campaign_pace_json in the SQL); STORE_ERR_NOTFOUND for none. */
int store_pace_campaign(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/* store_warmup_waiting - *WAITING deliveries of running campaigns wait for a warm-up; UNTIL (LEN bytes) the first's time, or "". */
int store_warmup_waiting(PGconn *conn, long *waiting, char *until, size_t len, struct store_err *e);

#endif
