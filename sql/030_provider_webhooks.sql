-- 030_provider_webhooks: the messages email services' signed webhooks
-- (POST /hooks/ses, /hooks/sendgrid, /hooks/postmark, /hooks/mailgun) have
-- already delivered, so that the same message sent again is refused.
--
-- A row is written only for a message whose signature (or, for Postmark, whose
-- credentials) checked out and whose time is within [hooks] max_age, in the
-- same transaction as the bounces it records: a message refused for any reason
-- leaves nothing, and one whose bounces could not be recorded may come again.
-- id is what identifies the message for its provider: SNS's MessageId,
-- Mailgun's token, a hash of SendGrid's signature, Postmark's record type and
-- ID. Rows past expires_at are deleted by the next message that arrives.
CREATE TABLE hook_seen (
    provider   text NOT NULL CHECK (provider IN ('ses', 'sendgrid', 'postmark', 'mailgun')),
    id         text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, id)
);
CREATE INDEX hook_seen_expires ON hook_seen (expires_at);
