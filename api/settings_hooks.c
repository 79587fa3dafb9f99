/*
 * settings_hooks - the [hooks] table (see settings_hooks.h).
 */
#include <stddef.h>

#include "api/settings_hooks.h"

#define HOOKS_T(k, field, what) SETTING_TEXT_ENTRY("hooks", k, struct hooks_settings, field, NULL, what)
#define HOOKS_U(k, field, d, lo, hi, what) \
    SETTING_NUMBER_ENTRY("hooks", k, SETTING_UNSIGNED, struct hooks_settings, field, d, lo, hi, what)

const struct setting hooks_table[] = {
    HOOKS_T("ses_topics", ses_topics,
            "Amazon SNS topic ARNs whose SES notifications POST /hooks/ses takes (none: no SES webhook)"),
    HOOKS_T("sns_cert_dir", sns_cert_dir,
            "SNS signing certificates read from this directory by file name instead of fetched"),
    HOOKS_T("sns_ca_file", sns_ca_file, "CAs an SNS signing certificate must chain to (none: the system's)"),
    HOOKS_T("sendgrid_public_key_file", sendgrid_public_key_file,
            "file holding SendGrid's Event Webhook verification key (none: no SendGrid webhook)"),
    HOOKS_T("mailgun_signing_key_file", mailgun_signing_key_file,
            "file holding Mailgun's HTTP webhook signing key (none: no Mailgun webhook)"),
    HOOKS_T("postmark_user", postmark_user, "the HTTP Basic user of Postmark's webhook URL (none: no Postmark webhook)"),
    HOOKS_T("postmark_password_file", postmark_password_file, "file holding that user's password"),
    HOOKS_U("max_age", max_age_s, 300, 30, 86400, "seconds a signed webhook's time may be from now"),
    HOOKS_U("replay_keep", replay_keep_s, 7 * 86400, 3600, 90 * 86400,
            "seconds a webhook message's id is kept to refuse the same message again"),
    { 0 },
};

struct hooks_settings hooks_settings;

/* the defaults from the table, before main reads the configuration */
__attribute__((constructor)) static void settings_hooks_defaults(void)
{
    settings_defaults(hooks_table, &hooks_settings);
}
