/*
 * handlers - one function per API route (the table is api/routes.c), in one
 * file per resource as the CLI has one per command (engine/cli/cmd_*.c).
 *
 * Each answers through api_reply_* (api/request.h) and never fails
 * otherwise: bad input 400, unknown 404, duplicate 409, the database away 503.
 */
#ifndef POSTINO_API_HANDLERS_H
#define POSTINO_API_HANDLERS_H

#include "api/request.h"
#include "engine/mail/address.h"

/* lists (h_lists.c) */
void api_lists_ls(struct api_req *r);
void api_lists_create(struct api_req *r);
void api_lists_get(struct api_req *r);
void api_lists_patch(struct api_req *r);
void api_lists_rm(struct api_req *r);

/* segments (h_segments.c) */
void api_segments_ls(struct api_req *r);
void api_segments_create(struct api_req *r);
void api_segments_get(struct api_req *r);
void api_segments_patch(struct api_req *r);
void api_segments_rm(struct api_req *r);
void api_segments_count(struct api_req *r);

/* subscribers and their subscriptions (h_subscribers.c) */
void api_subscribers_ls(struct api_req *r);
void api_subscribers_create(struct api_req *r);
void api_subscribers_get(struct api_req *r);
void api_subscribers_rm(struct api_req *r);
void api_subscribers_blocklist(struct api_req *r);
void api_subscriptions_ls(struct api_req *r);
void api_subscriptions_create(struct api_req *r);
void api_subscriptions_rm(struct api_req *r);
void api_subscribers_patch(struct api_req *r);
void api_subscriber_deliveries(struct api_req *r);
void api_subscriber_bounces(struct api_req *r);
void api_subscriber_events(struct api_req *r);
void api_subscriber_consent(struct api_req *r);
void api_subscriber_export(struct api_req *r);
void api_subscriber_erase(struct api_req *r);
void api_subscribers_bulk(struct api_req *r);
/* the email a {subscriber} path segment names; 0 or -1 with the answer set */
int api__subscriber_ref(struct api_req *r, char email[256]);
/* request decoding shared with the fuzzer: the fields of POST /api/v1/subscribers */
extern const struct api_field api_subscriber_fields[];

/* campaigns (h_campaigns.c) */
void api_campaigns_ls(struct api_req *r);
void api_campaigns_create(struct api_req *r);
void api_campaigns_get(struct api_req *r);
void api_campaigns_stats(struct api_req *r);
void api_campaigns_schedule(struct api_req *r);
void api_campaigns_send(struct api_req *r);
void api_campaigns_pause(struct api_req *r);
void api_campaigns_resume(struct api_req *r);
void api_campaigns_cancel(struct api_req *r);
void api_campaigns_archive(struct api_req *r);
void api_campaigns_test(struct api_req *r);
void api_campaigns_preview(struct api_req *r);
void api_campaigns_deliveries(struct api_req *r);
void api_campaigns_put(struct api_req *r);
void api_campaigns_render(struct api_req *r);
void api_campaigns_patch(struct api_req *r);
void api_campaigns_rm(struct api_req *r);
void api_campaigns_clone(struct api_req *r);
void api_campaigns_ab(struct api_req *r);
void api_campaigns_ab_pick(struct api_req *r);
/* a 400 invalid_template naming FIELD, with the line and column TMPL_ERR (a compiler's words) gives */
void api__reply_invalid_template(struct api_req *r, const char *field, const char *msg, const char *tmpl_err);
/* campaign_preview of IN's campaign fields inside LAYOUT (NULL: IN's "template"), answered */
void api__render(struct api_req *r, json_t *in, json_t *layout);

/* templates (h_templates.c) */
void api_templates_ls(struct api_req *r);
void api_templates_get(struct api_req *r);
void api_templates_create(struct api_req *r);
void api_templates_put(struct api_req *r);
void api_templates_patch(struct api_req *r);
void api_templates_rm(struct api_req *r);
void api_templates_render(struct api_req *r);

/* relays (h_relays.c) and DKIM keys (h_dkim.c) */
void api_relays_ls(struct api_req *r);
void api_relays_create(struct api_req *r);
void api_relays_rm(struct api_req *r);
void api_dns_check(struct api_req *r);
void api_dkim_ls(struct api_req *r);
void api_dkim_create(struct api_req *r);
void api_dkim_rm(struct api_req *r);
void api_relays_test(struct api_req *r);

/* webhook endpoints (h_webhooks.c) */
void api_webhooks_ls(struct api_req *r);
void api_webhooks_create(struct api_req *r);
void api_webhooks_get(struct api_req *r);
void api_webhooks_patch(struct api_req *r);
void api_webhooks_rm(struct api_req *r);
void api_webhooks_test(struct api_req *r);
void api_webhooks_log(struct api_req *r);
void api_webhooks_replay(struct api_req *r);

/* h_providers.c */
void api_providers_ls(struct api_req *r);
void api_providers_create(struct api_req *r);
void api_providers_get(struct api_req *r);
void api_providers_patch(struct api_req *r);
void api_providers_rm(struct api_req *r);
void api_providers_match(struct api_req *r);
void api_providers_stats(struct api_req *r);
void api_campaigns_providers(struct api_req *r);

/* h_pacing.c */
void api_providers_pace(struct api_req *r);
void api_rate_texts_ls(struct api_req *r);
void api_rate_texts_create(struct api_req *r);
void api_rate_texts_rm(struct api_req *r);
void api_warmups_ls(struct api_req *r);
void api_warmups_curves(struct api_req *r);
void api_warmups_get(struct api_req *r);
void api_warmups_put(struct api_req *r);
void api_warmups_rm(struct api_req *r);
void api_campaigns_pacing(struct api_req *r);

/* bounces (h_bounces.c) */
void api_bounces_post(struct api_req *r);
void api_bounces_ls(struct api_req *r);
void api_bounces_get(struct api_req *r);
void api_bounce_rules_ls(struct api_req *r);
void api_bounce_policy_ls(struct api_req *r);
/* email services' signed webhooks (h_hooks.c) */
void api_hook_ses(struct api_req *r);
void api_hook_sendgrid(struct api_req *r);
void api_hook_postmark(struct api_req *r);
void api_hook_mailgun(struct api_req *r);

/* imports over HTTP (h_imports.c) */
void api_imports_create(struct api_req *r);
void api_imports_get(struct api_req *r);
void api_imports_rejects(struct api_req *r);
void api_imports_preview(struct api_req *r);

/* a list's subscribers streamed out (h_exports.c) */
void api_exports_get(struct api_req *r);

/* images for campaigns (h_media.c) */
void api_media_create(struct api_req *r);
void api_media_ls(struct api_req *r);
void api_media_rm(struct api_req *r);
void api_media_serve(struct api_req *r);

/* transactional messages (h_tx.c) */
void api_tx_send(struct api_req *r);
void api_tx_get(struct api_req *r);
extern const struct api_field api_tx_fields[];

/* users and tokens (h_users.c) */
void api_users_ls(struct api_req *r);
void api_users_create(struct api_req *r);
void api_users_get(struct api_req *r);
void api_users_rm(struct api_req *r);
void api_users_disable(struct api_req *r);
void api_users_enable(struct api_req *r);
void api_users_password(struct api_req *r);
void api_me_get(struct api_req *r);
void api_me_password(struct api_req *r);
void api_me_tokens_ls(struct api_req *r);
void api_me_tokens_create(struct api_req *r);
void api_me_tokens_rm(struct api_req *r);

/* public (h_public.c) */
/* the web admin: its page, its assets, its login (h_admin.c) */
void api_admin_index(struct api_req *r);
void api_admin_asset(struct api_req *r);
void api_admin_preview(struct api_req *r);
void api_session_create(struct api_req *r);
void api_session_get(struct api_req *r);
void api_session_rm(struct api_req *r);
void api_healthz(struct api_req *r);
void api_metrics(struct api_req *r);
void api_unsub_page(struct api_req *r);
void api_unsub_post(struct api_req *r);

/* confirmation, opens and clicks (h_track.c) */
void api_confirm_page(struct api_req *r);
void api_confirm_post(struct api_req *r);
void api_prefs_page(struct api_req *r);
void api_prefs_post(struct api_req *r);
void api_track_open(struct api_req *r);
void api_track_click(struct api_req *r);
void api_track_metrics(struct buf *out);

/* public signup forms (h_forms.c) */
void api_signup_page(struct api_req *r);
void api_signup_script(struct api_req *r);
void api_signup_challenge(struct api_req *r);
void api_signup_post(struct api_req *r);
void api_signup_preflight(struct api_req *r);
void api_lists_form(struct api_req *r);
void api_forms_metrics(struct buf *out);

/* the web admin's dashboard and campaign report, and retrying failed deliveries (h_report.c) */
void api_dashboard(struct api_req *r);
void api_campaigns_report(struct api_req *r);
void api_campaigns_domains(struct api_req *r);
void api_campaigns_retry(struct api_req *r);

#endif
