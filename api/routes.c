/*
 * routes - every route the API serves: method, pattern, who may call it,
 * what body it takes, its handler, and its flags. api/openapi.yaml describes
 * exactly these (tests/unit/api/test_openapi.c checks both ways).
 *
 * R_LOGINS marks a route whose success changes a user or a token: the server
 * empties its login cache after it, so no login believed from the cache
 * outlives the change. API_METRICS_LISTEN marks the one route also served,
 * without a login, on the [http] metrics_listen address. R_LINK is a public link in messages: its {token} is
 * a signed token of KIND, checked when the headers arrive (a forged one is
 * 404 before any body is read) and decoded by the handler (api_link_token);
 * R_LINK_ACTS one whose GET counts (an open, a click): HEAD is 405 there, so a link
 * checker's HEAD counts nothing. No GET changes a subscription: /u, /c and /p
 * show a page whose form POSTs.
 */
#include <stddef.h>

#include "api/handlers.h"
#include "api/router.h"

#define R(m, p, a, b, f) { m, p, a, b, f, 0, 0 }
#define R_LOGINS(m, p, a, b, f) { m, p, a, b, f, API_FORGET_LOGINS, 0 }
#define R_LINK(m, p, kind, b, f) { m, p, API_PUBLIC, b, f, 0, kind }
#define R_LINK_ACTS(m, p, kind, b, f) { m, p, API_PUBLIC, b, f, API_GET_ACTS, kind }

const struct api_route api_routes[] = {
    R("GET", "/healthz", API_PUBLIC, API_BODY_NONE, api_healthz),
    { "GET", "/metrics", API_USER, API_BODY_NONE, api_metrics, API_METRICS_LISTEN, 0 },
    R_LINK("GET", "/u/{token}", 'u', API_BODY_NONE, api_unsub_page),
    R_LINK("POST", "/u/{token}", 'u', API_BODY_ANY, api_unsub_post),
    /* the preference page (h_prefs.c): its token may be forged or expired, which it says on a page */
    R("GET", "/p/{token}", API_PUBLIC, API_BODY_NONE, api_prefs_page),
    R("POST", "/p/{token}", API_PUBLIC, API_BODY_ANY, api_prefs_post),
    /* public signup forms (h_forms.c) */
    R("GET", "/s/signup.js", API_PUBLIC, API_BODY_NONE, api_signup_script),
    R("GET", "/s/challenge", API_PUBLIC, API_BODY_NONE, api_signup_challenge),
    R("GET", "/s/{lists}", API_PUBLIC, API_BODY_NONE, api_signup_page),
    R("POST", "/s", API_PUBLIC, API_BODY_ANY, api_signup_post),
    R("OPTIONS", "/s", API_PUBLIC, API_BODY_NONE, api_signup_preflight),
    /* email services' webhooks (h_hooks.c): no login, each message's signature is checked instead */
    R("POST", "/hooks/ses", API_PUBLIC, API_BODY_ANY, api_hook_ses),
    R("POST", "/hooks/sendgrid", API_PUBLIC, API_BODY_ANY, api_hook_sendgrid),
    R("POST", "/hooks/postmark", API_PUBLIC, API_BODY_ANY, api_hook_postmark),
    R("POST", "/hooks/mailgun", API_PUBLIC, API_BODY_ANY, api_hook_mailgun),

    R("GET", "/api/v1/lists", API_USER, API_BODY_NONE, api_lists_ls),
    R("POST", "/api/v1/lists", API_USER, API_BODY_JSON, api_lists_create),
    R("GET", "/api/v1/lists/{list}", API_USER, API_BODY_NONE, api_lists_get),
    R("PATCH", "/api/v1/lists/{list}", API_USER, API_BODY_JSON, api_lists_patch),
    R("GET", "/api/v1/lists/{list}/form", API_USER, API_BODY_NONE, api_lists_form),
    R("DELETE", "/api/v1/lists/{list}", API_USER, API_BODY_NONE, api_lists_rm),

    R("GET", "/api/v1/subscribers", API_USER, API_BODY_NONE, api_subscribers_ls),
    R("POST", "/api/v1/subscribers", API_USER, API_BODY_JSON, api_subscribers_create),
    R("GET", "/api/v1/subscribers/{subscriber}", API_USER, API_BODY_NONE, api_subscribers_get),
    R("DELETE", "/api/v1/subscribers/{subscriber}", API_USER, API_BODY_NONE, api_subscribers_rm),
    R("POST", "/api/v1/subscribers/{subscriber}/blocklist", API_USER, API_BODY_OPT_JSON, api_subscribers_blocklist),

    R("GET", "/api/v1/segments", API_USER, API_BODY_NONE, api_segments_ls),
    R("POST", "/api/v1/segments", API_USER, API_BODY_JSON, api_segments_create),
    R("POST", "/api/v1/segments/count", API_USER, API_BODY_JSON, api_segments_count),
    R("GET", "/api/v1/segments/{segment}", API_USER, API_BODY_NONE, api_segments_get),
    R("PATCH", "/api/v1/segments/{segment}", API_USER, API_BODY_JSON, api_segments_patch),
    R("DELETE", "/api/v1/segments/{segment}", API_USER, API_BODY_NONE, api_segments_rm),

    R("GET", "/api/v1/campaigns", API_USER, API_BODY_NONE, api_campaigns_ls),
    R("GET", "/api/v1/campaigns/{campaign}", API_USER, API_BODY_NONE, api_campaigns_get),
    R("GET", "/api/v1/campaigns/{campaign}/stats", API_USER, API_BODY_NONE, api_campaigns_stats),
    R("POST", "/api/v1/campaigns/{campaign}/schedule", API_USER, API_BODY_JSON, api_campaigns_schedule),
    R("POST", "/api/v1/campaigns/{campaign}/send", API_USER, API_BODY_OPT_JSON, api_campaigns_send),
    R("POST", "/api/v1/campaigns/{campaign}/pause", API_USER, API_BODY_OPT_JSON, api_campaigns_pause),
    R("POST", "/api/v1/campaigns/{campaign}/resume", API_USER, API_BODY_OPT_JSON, api_campaigns_resume),
    R("POST", "/api/v1/campaigns/{campaign}/cancel", API_USER, API_BODY_OPT_JSON, api_campaigns_cancel),
    R("POST", "/api/v1/campaigns/{campaign}/archive", API_USER, API_BODY_OPT_JSON, api_campaigns_archive),

    R("GET", "/api/v1/templates", API_USER, API_BODY_NONE, api_templates_ls),
    R("GET", "/api/v1/templates/{template}", API_USER, API_BODY_NONE, api_templates_get),
    R("GET", "/api/v1/relays", API_USER, API_BODY_NONE, api_relays_ls),
    R("GET", "/api/v1/dkim-keys", API_USER, API_BODY_NONE, api_dkim_ls),
    R("GET", "/api/v1/dns/check", API_USER, API_BODY_NONE, api_dns_check),
    R("POST", "/api/v1/bounces", API_USER, API_BODY_ANY, api_bounces_post),
    R("GET", "/api/v1/bounces", API_USER, API_BODY_NONE, api_bounces_ls),
    R("GET", "/api/v1/bounces/{bounce}", API_USER, API_BODY_NONE, api_bounces_get),

    R("GET", "/api/v1/users", API_ADMIN, API_BODY_NONE, api_users_ls),
    R_LOGINS("POST", "/api/v1/users", API_ADMIN, API_BODY_JSON, api_users_create),
    R("GET", "/api/v1/users/{user}", API_ADMIN, API_BODY_NONE, api_users_get),
    R_LOGINS("DELETE", "/api/v1/users/{user}", API_ADMIN, API_BODY_NONE, api_users_rm),
    R_LOGINS("POST", "/api/v1/users/{user}/disable", API_ADMIN, API_BODY_OPT_JSON, api_users_disable),
    R_LOGINS("POST", "/api/v1/users/{user}/enable", API_ADMIN, API_BODY_OPT_JSON, api_users_enable),
    R_LOGINS("POST", "/api/v1/users/{user}/password", API_ADMIN, API_BODY_JSON, api_users_password),

    R("GET", "/api/v1/me", API_USER, API_BODY_NONE, api_me_get),
    R_LOGINS("POST", "/api/v1/me/password", API_USER, API_BODY_JSON, api_me_password),
    R("GET", "/api/v1/me/tokens", API_USER, API_BODY_NONE, api_me_tokens_ls),
    R_LOGINS("POST", "/api/v1/me/tokens", API_USER, API_BODY_OPT_JSON, api_me_tokens_create),
    R_LOGINS("DELETE", "/api/v1/me/tokens/{token}", API_USER, API_BODY_NONE, api_me_tokens_rm),

    /* confirmation, opens and clicks (h_track.c) */
    R_LINK("GET", "/c/{token}", 'c', API_BODY_NONE, api_confirm_page),
    R_LINK("POST", "/c/{token}", 'c', API_BODY_ANY, api_confirm_post),
    R_LINK_ACTS("GET", "/o/{token}.gif", 'o', API_BODY_NONE, api_track_open),
    R_LINK_ACTS("GET", "/l/{token}", 'l', API_BODY_NONE, api_track_click),
    /* transactional messages (h_tx.c) */
    R("POST", "/api/v1/tx", API_USER, API_BODY_JSON, api_tx_send),
    R("GET", "/api/v1/tx/{delivery}", API_USER, API_BODY_NONE, api_tx_get),
    /* subscriptions, imports, writes to templates and campaigns; relays and DKIM keys are written by admins only */
    R("GET", "/api/v1/subscribers/{subscriber}/subscriptions", API_USER, API_BODY_NONE, api_subscriptions_ls),
    R("POST", "/api/v1/subscribers/{subscriber}/subscriptions", API_USER, API_BODY_JSON, api_subscriptions_create),
    R("DELETE", "/api/v1/subscribers/{subscriber}/subscriptions/{list}", API_USER, API_BODY_NONE, api_subscriptions_rm),
    /* a subscriber's edit and history (h_subscribers.c) */
    R("PATCH", "/api/v1/subscribers/{subscriber}", API_USER, API_BODY_JSON, api_subscribers_patch),
    R("GET", "/api/v1/subscribers/{subscriber}/deliveries", API_USER, API_BODY_NONE, api_subscriber_deliveries),
    R("GET", "/api/v1/subscribers/{subscriber}/bounces", API_USER, API_BODY_NONE, api_subscriber_bounces),
    R("GET", "/api/v1/subscribers/{subscriber}/events", API_USER, API_BODY_NONE, api_subscriber_events),
    R("GET", "/api/v1/subscribers/{subscriber}/consent", API_USER, API_BODY_NONE, api_subscriber_consent),
    R("GET", "/api/v1/subscribers/{subscriber}/export", API_USER, API_BODY_NONE, api_subscriber_export),
    R("POST", "/api/v1/subscribers/{subscriber}/erase", API_USER, API_BODY_OPT_JSON, api_subscriber_erase),
    R("POST", "/api/v1/imports", API_USER, API_BODY_FILE, api_imports_create),
    R("GET", "/api/v1/imports/{import}", API_USER, API_BODY_NONE, api_imports_get),
    R("GET", "/api/v1/imports/{import}/rejects", API_USER, API_BODY_NONE, api_imports_rejects),
    R("POST", "/api/v1/templates", API_USER, API_BODY_JSON, api_templates_create),
    R("PUT", "/api/v1/templates/{template}", API_USER, API_BODY_JSON, api_templates_put),
    R("DELETE", "/api/v1/templates/{template}", API_USER, API_BODY_NONE, api_templates_rm),
    R("POST", "/api/v1/campaigns", API_USER, API_BODY_JSON, api_campaigns_create),
    R("POST", "/api/v1/campaigns/{campaign}/test", API_USER, API_BODY_JSON, api_campaigns_test),
    R("GET", "/api/v1/campaigns/{campaign}/preview", API_USER, API_BODY_NONE, api_campaigns_preview),
    R("GET", "/api/v1/campaigns/{campaign}/deliveries", API_USER, API_BODY_NONE, api_campaigns_deliveries),
    /* the campaign editor and the templates screen: save a draft again, render what is not saved */
    R("PUT", "/api/v1/campaigns/{campaign}", API_USER, API_BODY_JSON, api_campaigns_put),
    R("POST", "/api/v1/campaigns/preview", API_USER, API_BODY_JSON, api_campaigns_render),
    R("POST", "/api/v1/templates/preview", API_USER, API_BODY_JSON, api_templates_render),
    R("POST", "/api/v1/relays", API_ADMIN, API_BODY_JSON, api_relays_create),
    R("DELETE", "/api/v1/relays/{relay}", API_ADMIN, API_BODY_NONE, api_relays_rm),
    R("POST", "/api/v1/dkim-keys", API_ADMIN, API_BODY_JSON, api_dkim_create),
    R("DELETE", "/api/v1/dkim-keys/{id}", API_ADMIN, API_BODY_NONE, api_dkim_rm),

    /* the web admin's imports, settings and images: a preview of an import, a relay's test, images (h_media.c) */
    R("POST", "/api/v1/imports/preview", API_USER, API_BODY_FILE, api_imports_preview),
    R("POST", "/api/v1/relays/{relay}/test", API_ADMIN, API_BODY_OPT_JSON, api_relays_test),
    R("GET", "/api/v1/media", API_USER, API_BODY_NONE, api_media_ls),
    R("POST", "/api/v1/media", API_USER, API_BODY_IMAGE, api_media_create),
    R("DELETE", "/api/v1/media/{id}", API_USER, API_BODY_NONE, api_media_rm),
    R("GET", "/m/{file}", API_PUBLIC, API_BODY_NONE, api_media_serve),

    /* the web admin (h_admin.c): a page over this API, logged in with a session cookie */
    { "GET", "/admin", API_PUBLIC, API_BODY_NONE, api_admin_index, API_TRAILING_SLASH, 0 },
    R("GET", "/admin/{file}", API_PUBLIC, API_BODY_NONE, api_admin_asset),
    R("GET", "/admin/preview/{id}", API_USER, API_BODY_NONE, api_admin_preview),
    R("POST", "/api/v1/session", API_PUBLIC, API_BODY_JSON, api_session_create),
    R("GET", "/api/v1/session", API_USER, API_BODY_NONE, api_session_get),
    R_LOGINS("DELETE", "/api/v1/session", API_USER, API_BODY_NONE, api_session_rm),

    /* the web admin's dashboard, campaign reports and bounces (h_report.c, h_bounces.c) */
    R("GET", "/api/v1/dashboard", API_USER, API_BODY_NONE, api_dashboard),
    R("GET", "/api/v1/campaigns/{campaign}/report", API_USER, API_BODY_NONE, api_campaigns_report),
    R("GET", "/api/v1/campaigns/{campaign}/domains", API_USER, API_BODY_NONE, api_campaigns_domains),
    R("POST", "/api/v1/campaigns/{campaign}/retry", API_USER, API_BODY_OPT_JSON, api_campaigns_retry),
    R("GET", "/api/v1/bounce-rules", API_USER, API_BODY_NONE, api_bounce_rules_ls),
    R("GET", "/api/v1/bounce-policy", API_USER, API_BODY_NONE, api_bounce_policy_ls),

    /* partial changes, campaigns removed and copied (h_campaigns.c, h_templates.c) */
    R("PATCH", "/api/v1/campaigns/{campaign}", API_USER, API_BODY_JSON, api_campaigns_patch),
    R("DELETE", "/api/v1/campaigns/{campaign}", API_USER, API_BODY_NONE, api_campaigns_rm),
    R("POST", "/api/v1/campaigns/{campaign}/clone", API_USER, API_BODY_OPT_JSON, api_campaigns_clone),
    /* A/B tests (h_campaigns.c) */
    R("GET", "/api/v1/campaigns/{campaign}/ab", API_USER, API_BODY_NONE, api_campaigns_ab),
    R("POST", "/api/v1/campaigns/{campaign}/ab/pick", API_USER, API_BODY_OPT_JSON, api_campaigns_ab_pick),
    R("PATCH", "/api/v1/templates/{template}", API_USER, API_BODY_JSON, api_templates_patch),
    /* one change to many subscribers (h_subscribers.c) */
    R("POST", "/api/v1/subscribers/bulk", API_USER, API_BODY_JSON, api_subscribers_bulk),
    /* a list's subscribers as CSV or JSON, streamed (h_exports.c) */
    R("GET", "/api/v1/exports", API_USER, API_BODY_NONE, api_exports_get),
    /* webhook endpoints (h_webhooks.c): read by users, written, tested and replayed by admins */
    R("GET", "/api/v1/webhooks", API_USER, API_BODY_NONE, api_webhooks_ls),
    R("POST", "/api/v1/webhooks", API_ADMIN, API_BODY_JSON, api_webhooks_create),
    R("GET", "/api/v1/webhooks/{webhook}", API_USER, API_BODY_NONE, api_webhooks_get),
    R("PATCH", "/api/v1/webhooks/{webhook}", API_ADMIN, API_BODY_JSON, api_webhooks_patch),
    R("DELETE", "/api/v1/webhooks/{webhook}", API_ADMIN, API_BODY_NONE, api_webhooks_rm),
    R("POST", "/api/v1/webhooks/{webhook}/test", API_ADMIN, API_BODY_OPT_JSON, api_webhooks_test),
    R("GET", "/api/v1/webhooks/{webhook}/log", API_USER, API_BODY_NONE, api_webhooks_log),
    R("POST", "/api/v1/webhooks/{webhook}/replay", API_ADMIN, API_BODY_JSON, api_webhooks_replay),
    /* mailbox providers (h_providers.c): read by users, written by admins */
    R("GET", "/api/v1/providers", API_USER, API_BODY_NONE, api_providers_ls),
    R("POST", "/api/v1/providers", API_ADMIN, API_BODY_JSON, api_providers_create),
    R("GET", "/api/v1/providers/match", API_USER, API_BODY_NONE, api_providers_match),
    R("GET", "/api/v1/providers/stats", API_USER, API_BODY_NONE, api_providers_stats),
    R("GET", "/api/v1/providers/{provider}", API_USER, API_BODY_NONE, api_providers_get),
    R("PATCH", "/api/v1/providers/{provider}", API_ADMIN, API_BODY_JSON, api_providers_patch),
    R("DELETE", "/api/v1/providers/{provider}", API_ADMIN, API_BODY_NONE, api_providers_rm),
    R("GET", "/api/v1/campaigns/{campaign}/providers", API_USER, API_BODY_NONE, api_campaigns_providers),
    /* pace, rate texts and warm-ups (h_pacing.c): read by users, written by admins */
    R("PATCH", "/api/v1/providers/{provider}/pace", API_ADMIN, API_BODY_JSON, api_providers_pace),
    R("GET", "/api/v1/rate-texts", API_USER, API_BODY_NONE, api_rate_texts_ls),
    R("POST", "/api/v1/rate-texts", API_ADMIN, API_BODY_JSON, api_rate_texts_create),
    R("DELETE", "/api/v1/rate-texts", API_ADMIN, API_BODY_NONE, api_rate_texts_rm),
    R("GET", "/api/v1/warmups", API_USER, API_BODY_NONE, api_warmups_ls),
    R("GET", "/api/v1/warmup-curves", API_USER, API_BODY_NONE, api_warmups_curves),
    R("GET", "/api/v1/warmups/{target}", API_USER, API_BODY_NONE, api_warmups_get),
    R("PUT", "/api/v1/warmups/{target}", API_ADMIN, API_BODY_JSON, api_warmups_put),
    R("DELETE", "/api/v1/warmups/{target}", API_ADMIN, API_BODY_NONE, api_warmups_rm),
    R("GET", "/api/v1/campaigns/{campaign}/pacing", API_USER, API_BODY_NONE, api_campaigns_pacing),

    { NULL, NULL, API_PUBLIC, API_BODY_NONE, NULL, 0, 0 },
};
