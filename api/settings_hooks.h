/*
 * settings_hooks - the [hooks] table: what the email services' webhooks
 * (api/h_hooks.c) check their messages with. A provider whose settings are
 * not given has no webhook (404). Keys and passwords are read from files when
 * a message comes, never kept in the configuration itself, so `config show`
 * shows where they are and nothing of them.
 */
#ifndef POSTINO_API_SETTINGS_HOOKS_H
#define POSTINO_API_SETTINGS_HOOKS_H

#include "engine/util/settings.h"

struct hooks_settings {
    const char *ses_topics;                /* the SNS TopicArns taken, separated by commas or spaces */
    const char *sns_cert_dir;              /* SNS signing certificates as files named as in their URL */
    const char *sns_ca_file;               /* the CAs an SNS certificate must chain to (none: the system's) */
    const char *sendgrid_public_key_file;  /* SendGrid's verification key (base64 DER, as shown, or PEM) */
    const char *mailgun_signing_key_file;  /* Mailgun's HTTP webhook signing key */
    const char *postmark_user;             /* the HTTP Basic user Postmark's webhook URL carries */
    const char *postmark_password_file;    /* and its password */
    unsigned max_age_s;                    /* a signed time further from now than this: refused */
    unsigned replay_keep_s;                /* how long a message's id is kept to refuse it again */
};

extern const struct setting hooks_table[];
extern struct hooks_settings hooks_settings;

#endif
