-- 004_bounces: what came back (DSNs, complaints, text bounces), the rules that read
-- non-standard ones, the per-class policy and the trigger that applies it.

-- Each bounce keeps the original message (bounded by the code that stores it;
-- the CHECK is the backstop), what the policy did, and the report's Message-ID
-- so that a report delivered twice is recorded once.
ALTER TABLE bounces DROP CONSTRAINT bounces_source_check;
ALTER TABLE bounces
    ADD CONSTRAINT bounces_source_check CHECK (source IN ('smtp', 'dsn', 'arf', 'api', 'text')),
    ADD COLUMN action      text CHECK (action IN ('none', 'disable', 'unsubscribe', 'blocklist', 'delete')),
    ADD COLUMN rule_id     bigint,
    ADD COLUMN message_id  text,
    ADD COLUMN original    text CHECK (octet_length(original) <= 1048576),
    ADD COLUMN original_truncated boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX bounces_report_key ON bounces (message_id, lower(email)) WHERE message_id IS NOT NULL;
CREATE INDEX bounces_delivery_idx ON bounces (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX bounces_received_idx ON bounces (received_at, id);

-- Messages to the bounce address that named no delivery postino knows: kept, not lost.
CREATE TABLE bounces_unmatched (
    id           bigserial PRIMARY KEY,
    reason       text NOT NULL,
    envelope_to  text,
    sender       text,
    subject      text,
    message_id   text,
    original     text CHECK (octet_length(original) <= 1048576),
    original_truncated boolean NOT NULL DEFAULT false,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Ordered rules for what carries no usable status code (phpList's bounce rules):
-- the first whose pattern (a case-insensitive POSIX regex) matches the diagnostic
-- text names the class.
CREATE TABLE bounce_rules (
    id          bigserial PRIMARY KEY,
    position    int NOT NULL,
    pattern     text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 1000 AND ('' ~* pattern) IS NOT NULL),
    class       text NOT NULL CHECK (class IN ('hard', 'soft', 'complaint', 'policy', 'unknown')),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounce_rules_position_idx ON bounce_rules (position, id);
INSERT INTO bounce_rules (position, pattern, class, description) VALUES
    (10, 'spam|blocked|black ?list|block ?list|reputation|listed (at|on|in)|policy|\mdmarc\M|\mspf\M|\mdkim\M|not authori[sz]ed|\m(rbl|dnsbl)\M',
         'policy', 'refused for the sender''s reputation or policy, not the subscriber''s fault'),
    (20, 'mailbox (is )?full|quota (exceeded|full)|over ?quota|exceeded (storage|quota)|insufficient (system )?storage|mailbox size limit|too much mail',
         'soft', 'mailbox full'),
    (30, 'user unknown|unknown user|no such (user|mailbox|recipient|address)|does not exist|doesn''t exist|invalid (recipient|mailbox|address)|recipient (address )?rejected|mailbox (unavailable|not found)|no mailbox|account (has been )?(disabled|closed|deleted)|user not found|not our customer|unrouteable address|address rejected|no longer (valid|available)|sorry, no mailbox here',
         'hard', 'the mailbox does not exist'),
    (40, 'host (or domain name )?not found|domain (not found|does not exist)|no mx|name or service not known|nxdomain',
         'hard', 'the domain does not exist'),
    (50, 'temporar|try again|timed? ?out|connection (refused|reset)|deferred|delayed|greylist',
         'soft', 'temporary trouble that did not clear');

-- What happens once a subscriber has THRESHOLD bounces of CLASS (CONSECUTIVE:
-- counted since the subscriber's last delivery that went through without one).
CREATE TABLE bounce_policy (
    class       text PRIMARY KEY CHECK (class IN ('hard', 'soft', 'complaint', 'policy', 'unknown')),
    threshold   int NOT NULL CHECK (threshold BETWEEN 1 AND 1000),
    consecutive boolean NOT NULL DEFAULT false,
    action      text NOT NULL CHECK (action IN ('none', 'disable', 'unsubscribe', 'blocklist', 'delete')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bounce_policy (class, threshold, consecutive, action) VALUES
    ('hard', 1, false, 'blocklist'),
    ('soft', 3, true, 'disable'),
    ('complaint', 1, false, 'blocklist'),
    ('policy', 1, false, 'none'),
    ('unknown', 1, false, 'none');

-- bounce_count - how many bounces of CLS subscriber SUB has, as the policy
-- counts them: one per delivery; when CONSECUTIVE, only those after the
-- subscriber's latest delivery that was sent and drew no bounce (a complaint
-- means it arrived). Recomputed from the ledger each time, so a report that
-- arrives late still lands in the right place.
CREATE FUNCTION bounce_count(sub bigint, cls text, consecutive boolean) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    reset_at timestamptz;
BEGIN
    IF consecutive THEN
        SELECT max(d.sent_at) INTO reset_at FROM deliveries d
        WHERE d.subscriber_id = sub AND d.state = 'sent'
          AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.delivery_id = d.id AND b.class <> 'complaint');
    END IF;
    RETURN (SELECT count(DISTINCT coalesce(b.delivery_id, -b.id))
            FROM bounces b LEFT JOIN deliveries d ON d.id = b.delivery_id
            WHERE b.subscriber_id = sub AND b.class = cls
              AND (reset_at IS NULL OR coalesce(d.sent_at, d.updated_at, b.received_at) > reset_at));
END $$;

-- bounce_apply - after every bounce row (the sender's synchronous rejections
-- included): count, compare with the class's policy, act on the subscriber and
-- note on the row what was done. Suppressed subscribers are skipped by the
-- sender's claim and by every later campaign's audience.
CREATE FUNCTION bounce_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    p bounce_policy;
    act text := 'none';
BEGIN
    IF NEW.subscriber_id IS NOT NULL THEN
        SELECT * INTO p FROM bounce_policy WHERE class = NEW.class;
        IF FOUND AND p.action <> 'none'
           AND bounce_count(NEW.subscriber_id, NEW.class, p.consecutive) >= p.threshold THEN
            act := p.action;
            IF act = 'disable' THEN
                UPDATE subscribers SET status = 'disabled', updated_at = now()
                WHERE id = NEW.subscriber_id AND status = 'enabled';
            ELSIF act = 'blocklist' THEN
                UPDATE subscribers SET status = 'blocklisted', updated_at = now()
                WHERE id = NEW.subscriber_id AND status <> 'blocklisted';
            END IF;
            IF act IN ('unsubscribe', 'blocklist') THEN
                UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()
                WHERE subscriber_id = NEW.subscriber_id AND status <> 'unsubscribed';
            END IF;
        END IF;
    END IF;
    UPDATE bounces SET action = act WHERE id = NEW.id;
    IF act = 'delete' THEN
        DELETE FROM subscribers WHERE id = NEW.subscriber_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER bounces_apply AFTER INSERT ON bounces FOR EACH ROW EXECUTE FUNCTION bounce_apply();
