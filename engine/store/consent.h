/*
 * consent - how and by whom a subscription changed (sql/022_consent.sql).
 *
 * store_consent_context  say how and by whom the subscription changes of the transaction in
 *                        progress on CONN are made (transaction-local settings)
 * store_consent_session  the same for every later statement of CONN's session, until
 *                        store_consent_reset; for writers whose statements run one by one
 * store_consent_reset    forget what store_consent_session said
 * store_consent_page     one subscriber's consent records, newest first, a keyset page
 *
 * VIA is one of CONSENT_VIAS; ACTOR "user:EMAIL", "token:ID", "cli:LOGIN",
 * "subscriber" or ""; IP, UA and FORM_HASH "" (or NULL) when there are none.
 * The trigger of sql/022 reads them for every change of subscriptions and
 * records via 'unknown' when nobody said. Failures return STORE_ERR_DB.
 */
#ifndef POSTINO_STORE_CONSENT_H
#define POSTINO_STORE_CONSENT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/history.h"
#include "engine/store/store.h"

#define CONSENT_VIAS \
    "import, api, form, admin, cli, confirmation, unsubscribe, bounce, complaint, preferences, system"

int store_consent_context(PGconn *conn, const char *via, const char *actor, const char *ip, const char *ua,
                          const char *form_hash);
int store_consent_session(PGconn *conn, const char *via, const char *actor, const char *ip, const char *ua,
                          const char *form_hash);
int store_consent_reset(PGconn *conn);
int store_consent_page(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e);

#endif
