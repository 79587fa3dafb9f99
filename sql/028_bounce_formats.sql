-- 028_bounce_formats: every report format classified, unmatched reports kept
-- with what they say, forged reports recorded but never acted on.
--
-- bounces.unverified: a report that reached postino by an untrusted path (a
-- mailbox, a pipe not marked trusted) without a valid VERP token. Anyone can
-- mail the bounce address a report naming a subscriber; such a row is kept and
-- shown, but bounce_apply takes no action on it and bounce_count skips it.
-- (X-Postino-Delivery in a returned original is a plain delivery id, not signed:
-- it finds the delivery but does not prove the report genuine.)
ALTER TABLE bounces
    ADD COLUMN unverified boolean NOT NULL DEFAULT false,
    ADD COLUMN matched_by text CHECK (matched_by IN ('token', 'header', 'recipient', 'event', 'log'));

-- What a report that is not recorded as a bounce says: its kind (dsn, arf,
-- text, autoreply, other), class (autoreply, delay, or the class of a bounce
-- that names no delivery postino knows), status and recipient.
ALTER TABLE bounces_unmatched
    ADD COLUMN kind       text,
    ADD COLUMN class      text,
    ADD COLUMN status     text,
    ADD COLUMN email      text,
    ADD COLUMN diagnostic text;

-- policy is the class of refusals that blame the SENDER (reputation,
-- blocklists, spam content, authentication): a sending problem, never a reason
-- to suppress the recipient.
UPDATE bounce_policy SET action = 'none', updated_at = now() WHERE class = 'policy' AND action <> 'none';
ALTER TABLE bounce_policy ADD CONSTRAINT bounce_policy_sender_side_check CHECK (class <> 'policy' OR action = 'none');

-- A rule with beats_code decides even over a specific status code: the words
-- that blame the sender under a 5.1.x, a full mailbox under any code, an
-- invalid recipient under a 5.7.x.
ALTER TABLE bounce_rules ADD COLUMN beats_code boolean NOT NULL DEFAULT false;

-- The shipped rules replace 004's (those still as shipped; rules an operator
-- added or changed stay). Patterns are case-insensitive regular expressions
-- that read the same in PostgreSQL and POSIX ERE (tests/unit/mail/test_bounce_corpus.c
-- reads this file): alternation, groups, classes, no \m \M or (?:).
DELETE FROM bounce_rules WHERE position IN (10, 20, 30, 40, 50) AND description IN (
    'refused for the sender''s reputation or policy, not the subscriber''s fault', 'mailbox full',
    'the mailbox does not exist', 'the domain does not exist', 'temporary trouble that did not clear');
INSERT INTO bounce_rules (position, pattern, class, beats_code, description) VALUES
    (10, 'mailbox (is )?full|mailbox.{0,20}quota|quota (exceeded|full)|over ?quota|exceeded (its |the )?(storage|quota)|insufficient (system )?storage|mailbox size limit|too much mail|out of storage|storage (space|quota)|full mailbox|user.{0,20}over.{0,10}quota|overquota|mailfolder is full',
         'soft', true, 'the mailbox is full: soft, never hard'),
    (20, 'sender address rejected|sender (address )?(verify|verification) failed|sender (domain|address) (must exist|not allowed|unknown|rejected)|sender verify|verification of sender|sender denied|sender is (blocked|not allowed|on a blocklist)|from (address|domain) (is )?(not allowed|rejected|blocked)|banned sender|sender (address )?is banned|5\.7\.(708|511)|unauthenticated email|not authenticated|authentication (failed|required)|spf (check|fail|validation|record)|did not pass spf|spf (permerror|softfail)|dmarc|dkim|anti-spoofing|spoof',
         'policy', true, 'the sender''s address or authentication was refused: a sending problem'),
    (30, 'black ?list|block ?list|blocked|listed (at|on|in|by)|spamhaus|spamcop|barracuda|sorbs|\[tss0[0-9]\]|reputation|dnsbl|poor (ip )?reputation|rate.?limited|too many (messages|connections|emails)|unusual rate|host network not allowed|network not allowed|client host.{0,40}(rejected|refused)|(client|sending|your|the) ip.{0,40}(rejected|refused|not allowed|blacklisted)|ip address.{0,40}(rejected|refused|blocked|not allowed)|dns ptr|ptr (record|resource record)|reverse dns|rdns',
         'policy', true, 'the sending server''s reputation or a blocklist: a sending problem'),
    (40, 'user unknown|unknown user|no such (user|mailbox|recipient|address|account)|(user|mailbox|address|recipient|account).{0,20}(does not|doesn''t|did not) exist|does not exist|doesn''t exist|invalid (recipient|mailbox|address|user)|recipient (address )?rejected|recipient (not found|unknown|invalid)|recipientnotfound|recipnotfound|mailbox (unavailable|not found|disabled|inactive)|no mailbox|account (has been )?(disabled|closed|deleted|suspended|inactive|expired)|(user|address) not found|not our customer|unrouteable address|address rejected|no longer (valid|available|active)|sorry, no mailbox here|not a valid (mailbox|recipient|user)|unknown (local part|recipient|address)|no (valid )?recipients|this user doesn''t have|disabled (mailbox|account)|unknown or illegal alias|undeliverable address|address (is )?(invalid|unknown)|mailbox.{0,30}(is|was) (disabled|deactivated)|email account that you tried to reach',
         'hard', true, 'the mailbox does not exist or is disabled'),
    (50, 'spam|junk|content (rejected|filter)|message content|suspicious|virus|malware|phishing|policy reasons|not accepted for policy|message (was |has been )?(refused|blocked)|message (was |has been )?rejected (due|because|as|for)|rejected by (header|content|policy)|do not (have|has) permission to post|not have permission|not allowed to post|autorisation de publier|berechtigung|permiso para publicar|permesso di pubblicare|autorizzazione (per|a) pubblicare|toestemming|permiss(a|ã)o para postar',
         'policy', true, 'the message was refused for its content or the receiver''s policy: a sending problem'),
    (60, 'host (or domain name )?not found|host .{0,60} not found|domain (name )?(not found|does not exist)|domain.{0,30}(does not|doesn''t) (exist|accept)|no mx|name or service not known|nxdomain|unrouteable (mail )?domain|no (such|valid) (host|domain)|unknown (host|domain)|bad destination|unresolvable|no route to (host|domain)|null mx',
         'hard', true, 'the domain does not exist or takes no mail'),
    (70, 'temporar|try again|timed? ?out|connection (refused|reset|timed out)|deferred|delayed|greylist|exceeded.{0,30}(time|retry)|retry (time|timeout)|could not (connect|be delivered within)|service (not )?(available|unavailable)|too long',
         'soft', false, 'temporary trouble that did not clear');

-- bounce_count - as in 004, but an unverified report never counts.
CREATE OR REPLACE FUNCTION bounce_count(sub bigint, cls text, consecutive boolean) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    reset_at timestamptz;
BEGIN
    IF consecutive THEN
        SELECT max(d.sent_at) INTO reset_at FROM deliveries d
        WHERE d.subscriber_id = sub AND d.state = 'sent'
          AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.delivery_id = d.id AND b.class <> 'complaint'
                          AND NOT b.unverified);
    END IF;
    RETURN (SELECT count(DISTINCT coalesce(b.delivery_id, -b.id))
            FROM bounces b LEFT JOIN deliveries d ON d.id = b.delivery_id
            WHERE b.subscriber_id = sub AND b.class = cls AND NOT b.unverified
              AND (reset_at IS NULL OR coalesce(d.sent_at, d.updated_at, b.received_at) > reset_at));
END $$;

-- bounce_apply - as in 022, but an unverified report is recorded with action
-- none, and the policy class (a sending problem) never acts.
CREATE OR REPLACE FUNCTION bounce_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    p bounce_policy;
    act text := 'none';
    saved text[];
BEGIN
    IF NEW.subscriber_id IS NOT NULL AND NOT NEW.unverified AND NEW.class <> 'policy' THEN
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
                saved := ARRAY[current_setting('postino.via', true), current_setting('postino.actor', true),
                               current_setting('postino.ip', true), current_setting('postino.ua', true),
                               current_setting('postino.form_hash', true)];
                PERFORM set_config('postino.via', CASE WHEN NEW.class = 'complaint' THEN 'complaint' ELSE 'bounce' END,
                                   true),
                        set_config('postino.actor', 'bounce:' || NEW.id, true),
                        set_config('postino.ip', '', true), set_config('postino.ua', '', true),
                        set_config('postino.form_hash', '', true);
                UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()
                WHERE subscriber_id = NEW.subscriber_id AND status <> 'unsubscribed';
                PERFORM set_config('postino.via', coalesce(saved[1], ''), true),
                        set_config('postino.actor', coalesce(saved[2], ''), true),
                        set_config('postino.ip', coalesce(saved[3], ''), true),
                        set_config('postino.ua', coalesce(saved[4], ''), true),
                        set_config('postino.form_hash', coalesce(saved[5], ''), true);
            END IF;
        END IF;
    END IF;
    UPDATE bounces SET action = act WHERE id = NEW.id;
    IF act = 'delete' THEN
        DELETE FROM subscribers WHERE id = NEW.subscriber_id;
    END IF;
    RETURN NULL;
END $$;
