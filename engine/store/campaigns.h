/*
 * campaigns - campaigns and the lists they go to.
 *
 * store_campaign_create  add a draft campaign with its lists (one transaction)
 * store_campaign_update  replace a draft's or a scheduled campaign's content and lists
 * store_campaign_ls      campaigns (no bodies, with their counters) as a JSON array, newest first,
 *                        a keyset page; the hidden transactional campaigns (kind "tx",
 *                        engine/store/tx.h) are not listed
 * store_campaign_get     one campaign with bodies, its template and its lists
 * store_campaign_move    a lifecycle action: schedule, send, pause, resume, cancel
 * store_campaign_send_at_check  is a text a finite time PostgreSQL understands (a schedule's time)
 * store_campaign_stats   counters, rate, ETA, opens and clicks of one campaign
 * store_campaign_audience_step  make the next chunk of a started campaign's audience
 * store_campaign_audience_work  chunks of every audience being made, for a while
 * store_campaign_archive move a finished or cancelled campaign's deliveries to the archive
 * store_campaign_rename  change a campaign's name, whatever its state
 * store_campaign_rm      remove a campaign that has not started
 * store_campaign_clone   a new draft with a campaign's content, lists and audience
 *
 * IDs are decimal strings as the user typed them; a non-number is "no campaign".
 */
#ifndef POSTINO_STORE_CAMPAIGNS_H
#define POSTINO_STORE_CAMPAIGNS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"

struct abtest;

struct campaign_new {
    const char *name;
    const char *subject;
    const char *from_name;      /* "" when none */
    const char *from_addr;      /* normalised */
    const char *reply_to;       /* NULL when none */
    const char *template_ref;   /* NULL: no template */
    const char *html;           /* the HTML body (rendered from MARKDOWN when that is given) */
    const char *markdown;       /* NULL: the body was written in HTML; else its Markdown source */
    const char *text;           /* NULL: derived from the HTML */
    const char *const *lists;
    size_t nlists;
    const char *segment;        /* NULL, or a segment (id or name) narrowing the lists' audience, or */
    const char *filter;         /* NULL, or a filter of the campaign's own (compiled by the store) */
    bool track_opens;           /* an open image in each message */
    bool track_clicks;          /* links through /l/ */
    const struct abtest *ab;    /* NULL, or an A/B test (its variants' bodies already rendered to HTML) */
};

int store_campaign_create(PGconn *conn, const struct campaign_new *c, json_t **out, struct store_err *e);
/*
 * store_campaign_update - replace campaign ID's content (everything of C) and
 * its lists in one transaction, while it is a draft or scheduled (not yet
 * started; a scheduled one keeps its time). STORE_ERR_INVALID names the
 * state otherwise; STORE_ERR_NOTFOUND for no such campaign, list or template.
 * *OUT is the stored campaign afterwards.
 */
int store_campaign_update(PGconn *conn, const char *id, const struct campaign_new *c, json_t **out,
                          struct store_err *e);
/* store_campaign_ls - the campaigns older than AFTER (0: from the newest), at most LIMIT (0: all) */
int store_campaign_ls(PGconn *conn, long long after, long limit, json_t **out, struct store_err *e);
int store_campaign_get(PGconn *conn, const char *id, json_t **out, struct store_err *e);

enum campaign_action { CAMPAIGN_SCHEDULE, CAMPAIGN_SEND, CAMPAIGN_PAUSE, CAMPAIGN_RESUME, CAMPAIGN_CANCEL };

/*
 * store_campaign_move - apply ACTION to campaign ID in one transaction.
 * SCHEDULE needs AT (a timestamp PostgreSQL understands); SEND fixes the
 * audience and makes its first chunk of CHUNK subscriber ids (the rest is
 * made by store_campaign_audience_step), or the whole audience when CHUNK
 * is 0 or the campaign has an A/B test (sql/037_chunked_start.sql). An
 * illegal move is STORE_ERR_INVALID naming the current state. *OUT is the
 * campaign's summary afterwards.
 */
int store_campaign_move(PGconn *conn, const char *id, enum campaign_action action, const char *at, unsigned chunk,
                        json_t **out, struct store_err *e);
int store_campaign_send_at_check(PGconn *conn, const char *when, struct store_err *e);
int store_campaign_stats(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_campaign_archive - move campaign ID's deliveries out of the hot
 * table into deliveries_archive (sql/039_ledger_scale.sql), in one
 * transaction; the campaign's counters, reports and its recipients' history
 * read them there. Only a finished or cancelled campaign, once: another state
 * is STORE_ERR_CONFLICT naming it. *MOVED is how many deliveries moved, *OUT
 * the campaign's summary afterwards.
 */
int store_campaign_archive(PGconn *conn, const char *id, long long *moved, json_t **out, struct store_err *e);

/*
 * store_campaign_rename - campaign ID's name becomes NAME (checked by the
 * caller: campaign_check), in any state: the name is in no message.
 * STORE_ERR_NOTFOUND for no such campaign; *OUT the campaign afterwards.
 */
int store_campaign_rename(PGconn *conn, const char *id, const char *name, json_t **out, struct store_err *e);

/*
 * store_campaign_rm - delete campaign ID while it is a draft or scheduled
 * (nothing of it sent, no ledger). STORE_ERR_CONFLICT naming its state
 * otherwise, STORE_ERR_NOTFOUND for no such campaign.
 */
int store_campaign_rm(PGconn *conn, const char *id, struct store_err *e);

/*
 * store_campaign_clone - a new draft with campaign ID's subject, From,
 * Reply-To, template, bodies, tracking, lists and segment or filter, named
 * "NAME (copy)" (the name cut to fit 200 characters), whatever ID's state.
 * One transaction. *OUT the new campaign; STORE_ERR_NOTFOUND for no such one.
 */
int store_campaign_clone(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_campaign_audience_step - make the next chunk of campaign ID's
 * audience in one transaction, under the campaign's lock (WAIT: waiting for
 * another process's chunk to end; else giving up at once). Returns 1 with
 * *MADE the deliveries made; 0 when there was nothing to make (the audience
 * is whole, the campaign is neither running nor paused) or, without WAIT,
 * another process holds the lock; a negative store code with E.
 */
int store_campaign_audience_step(PGconn *conn, const char *id, bool wait, long long *made, struct store_err *e);

/*
 * store_campaign_audience_work - chunks of every running or paused
 * campaign's audience still being made (not waiting for a chunk another
 * process makes), until none is left to make or BUDGET_MS have passed;
 * *MADE the deliveries made. 0, or a negative store code with E.
 */
int store_campaign_audience_work(PGconn *conn, long budget_ms, long long *made, struct store_err *e);

/* The statement that starts campaign $1 with a first chunk of $2 subscriber ids (sql/037). */
extern const char store_campaign_start_sql[];

/* the audience of campaign c: being made ("making"), made so far, estimated in all (made, once whole) */
#define CAMPAIGN_AUDIENCE_JSON                                                                              \
    "json_build_object('making', c.audience_pending, 'made', c.n_total, 'estimated', CASE WHEN"             \
    " c.audience_pending THEN round(c.n_total::numeric * (c.audience_cutoff - c.audience_first + 1)"        \
    " / greatest(c.audience_next - c.audience_first, 1))::bigint ELSE c.n_total END)"

/* what campaign c's audience is narrowed by when it starts: its segment's filter then, or its own */
#define CAMPAIGN_AUDIENCE_FILTER "coalesce((SELECT g.filter FROM segments g WHERE g.id = c.segment_id), c.filter)"

#endif
