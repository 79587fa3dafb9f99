/*
 * providers - mailbox providers as data (sql/033_providers.sql): their
 * domains and receiving hosts, which provider a recipient belongs to and
 * why, and what each provider did with the mail.
 *
 * store_provider_ls        every provider with its domains and host patterns
 * store_provider_get       one (by name, or by id when the text is a number),
 *                          with its learned domains and its counts
 * store_provider_add       a new provider
 * store_provider_set       change a provider's name, label, domains or hosts
 * store_provider_rm        remove one (its deliveries then count as "other")
 * store_provider_match     the provider of an address or a domain (and a
 *                          receiving host), and why
 * store_provider_campaign  a campaign's deliveries by provider
 * store_provider_stats     every provider's deliveries by UTC day over a span
 *
 * A provider's JSON: {id, name, label, domains: [...], mx: [...], learned (how
 * many domains were learned), pace (engine/store/pacing.h), created_at, updated_at}. Patterns are checked
 * and normalised by engine/mail/provider.c; a bad one is STORE_ERR_INVALID on
 * the field "domains" or "mx", and so is one another provider has. JSON
 * results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_PROVIDERS_H
#define POSTINO_STORE_PROVIDERS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"

/* the SQL finding a provider p by name or numeric id in $N */
#define PROVIDER_REF_MATCH(n) \
    "(p.name = $" #n " OR p.id = CASE WHEN $" #n " ~ '^[0-9]{1,9}$' THEN $" #n "::int END)"

#define PROVIDER_LEARNED_SHOWN 100   /* the learned domains one provider's JSON lists, latest first */
#define PROVIDER_STATS_DAYS_MAX 366  /* the longest span of store_provider_stats */
#define PROVIDER_STATS_DAYS 30       /* its span when no start is given */

/* A change of a provider: each NULL (or 0 long) to keep what it is. */
struct provider_edit {
    const char *name, *label;
    const char *const *domains;    /* the domain patterns: all of them (SET_DOMAINS), or more to add */
    size_t ndomains;
    bool set_domains;
    const char *const *mx;         /* the same for host patterns */
    size_t nmx;
    bool set_mx;
    const char *const *rm_domains; /* patterns to remove */
    size_t nrm_domains;
    const char *const *rm_mx;
    size_t nrm_mx;
};

int store_provider_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_provider_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);

/* store_provider_add - a provider of ED's name, label, domains and mx (the rest of ED unused). */
int store_provider_add(PGconn *conn, const struct provider_edit *ed, json_t **out, struct store_err *e);
int store_provider_set(PGconn *conn, const char *ref, const struct provider_edit *ed, json_t **out,
                       struct store_err *e);
int store_provider_rm(PGconn *conn, const char *ref, struct store_err *e);

/*
 * store_provider_match - *OUT is {"domain", "host" (or null), "provider"
 * (a name, or "other"), "label", "how" ("domain", "mx", "learned" or
 * "none"), "pattern" (the domain or host pattern, or the host the domain
 * was learned from; null for none), "why" (a sentence)}: the provider of
 * TARGET (an address or a domain) taken by RELAY (a host name or a relay
 * field "name[addr]:port"; NULL for none), as a delivery's is found.
 */
int store_provider_match(PGconn *conn, const char *target, const char *relay, json_t **out, struct store_err *e);

/*
 * store_provider_campaign - *OUT is {"id", "providers": [{"provider",
 * "label", "delivered", "deferred" (deliveries waiting at a deferral),
 * "deferrals" (every deferral), "bounced", "expired", "bounces": {class: n}
 * (hard, soft, policy, unknown), "complaints", "delivery_s": {"median",
 * "p95"} (seconds from submission to delivered; null before any)}]}, the
 * providers with anything to show, by delivered then name, "other" last.
 * Counts are of what Postfix's log told (delivery_mta) and of the bounce
 * rows. STORE_ERR_NOTFOUND for no such campaign.
 */
int store_provider_campaign(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_provider_stats - *OUT is {"since", "until", "days": [{"day",
 * "provider", and the counts of store_provider_campaign}]}: deliveries whose
 * latest event in Postfix's log, bounces and complaints received, in the UTC
 * days from SINCE to UNTIL (dates "YYYY-MM-DD" or NULL: the last
 * PROVIDER_STATS_DAYS days to today). STORE_ERR_INVALID on "since" or
 * "until" for a bad date, a start after the end or a span over
 * PROVIDER_STATS_DAYS_MAX days.
 */
int store_provider_stats(PGconn *conn, const char *since, const char *until, json_t **out, struct store_err *e);

/*
 * store_date_of - VALUE ("YYYY-MM-DD") as a date into OUT (11 bytes), or
 * DEFLT days from today (UTC) when VALUE is NULL; STORE_ERR_INVALID on FIELD.
 */
int store_date_of(PGconn *conn, const char *value, int deflt, const char *field, char *out, struct store_err *e);

#endif
