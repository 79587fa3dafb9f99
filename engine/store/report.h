/*
 * report - what the dashboard and a campaign's report show, read with work
 * bounded by what is shown, never by the size of the ledger.
 *
 * store_dashboard        the campaigns in progress with their rate and ETA, the
 *                        last 30 days (UTC) of sent, bounces, complaints,
 *                        unsubscribes and new subscribers, the live senders, and
 *                        the warnings an operator must see
 * store_campaign_report  what a campaign's stats do not say: its days, opens and
 *                        clicks over time, its unsubscribes
 * store_campaign_domains a campaign's recipients by domain, with their states
 *
 * The days come from daily_counts (sql/016_report_counts.sql), kept by the
 * writes themselves (the dashboard's read folds in the new subscribers noted
 * since the last one: engine/store/daily.h); a campaign's report reads that
 * campaign's rows only
 * (its opens, clicks and deliveries, through indexes on the campaign), so it
 * costs what the campaign is, never what the tables hold. JSON results are the
 * caller's to json_decref().
 */
#ifndef POSTINO_STORE_REPORT_H
#define POSTINO_STORE_REPORT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"

#define REPORT_DAYS 30          /* the dashboard's days, today included */
#define REPORT_CAMPAIGNS 50     /* the most campaigns in progress it lists */
#define REPORT_DOMAINS 10       /* a report's domains, the rest summed as one */
#define REPORT_DOMAINS_AGE 60   /* a campaign in progress: its domains counted again after this many seconds */
#define REPORT_COMPLAINT_RATE 0.001   /* over this share of complaints to sent, a warning */
#define REPORT_DEFERRED_SAMPLE 1000   /* a running campaign's last deferred deliveries read for a silent relay */

/*
 * store_dashboard - *OUT is {"campaigns": [...], "days": [{"day", "sent",
 * "bounces", "complaints", "unsubscribes", "subscribers"} x REPORT_DAYS],
 * "totals": {the same summed, "complaint_rate"}, "senders": [...],
 * "relays": n, "warnings": [{"code", "message", "campaign"?, "domain"?}]}.
 * Warnings: no_relay, relay (a relay gave no reply at all to a delivery of a
 * running campaign in the last ten minutes, among its last
 * REPORT_DEFERRED_SAMPLE deferred), sender (a sender waiting on a
 * relay that fails or holds it back), no_sender (campaigns running, no
 * sender seen for a minute),
 * no_dkim (a From domain of a campaign in progress without a key),
 * complaint_rate (over REPORT_COMPLAINT_RATE in the last 30 days).
 */
int store_dashboard(PGconn *conn, json_t **out, struct store_err *e);

/*
 * store_campaign_report - *OUT is {"id", "status", "unsubscribes",
 * "days": [{"day", "sent", "bounces", "complaints", "unsubscribes"}],
 * "timeline": {"bucket": "hour" or "day", "points": [{"at", "opens",
 * "clicks"}]} (first opens and first clicks of each delivery on a link, by
 * when they happened; the hour for a campaign started within three days, else
 * the day, at most 72 hours or 60 days from the start; no points before it
 * starts)}. STORE_ERR_NOTFOUND for no such campaign.
 */
int store_campaign_report(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_campaign_domains - *OUT is {"id", "domains": [{"domain", "total",
 * "sent", "queued", "deferred", "failed", "skipped", "cancelled"}] (the
 * REPORT_DOMAINS largest by recipients), "other_domains": {"domains", and the
 * same summed over the rest} or null, "counted_at": when they were counted}.
 * Counting reads every delivery of the campaign (a second or two at a
 * million), so a count is kept: read again while the campaign goes on for
 * REPORT_DOMAINS_AGE seconds, and for good once it is over (until a retry or
 * a cancel changes it); while one caller counts, the others get what was
 * kept before, if anything was. STORE_ERR_NOTFOUND for no such campaign.
 */
int store_campaign_domains(PGconn *conn, const char *id, json_t **out, struct store_err *e);

#endif
