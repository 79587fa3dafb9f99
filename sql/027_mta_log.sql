-- 027_mta_log: what Postfix did with each message after it took it, read from
-- its delivery log (postino mta follow, or serve with [mta] log).
--
-- A delivery that Postfix accepted (queue_id set from "250 2.0.0 Ok: queued
-- as X") gains one row here once a log line names its queue id and recipient:
-- delivered (the receiving server took it), deferred (the latest reason, and
-- how many times), bounced, or expired (qmgr gave up on a still-deferred
-- recipient). Final states are never left; a line read twice changes nothing.
CREATE TABLE delivery_mta (
    delivery_id bigint PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    state       text NOT NULL CHECK (state IN ('delivered', 'deferred', 'bounced', 'expired')),
    host        text,             -- the receiving server, "mx.example.org[192.0.2.1]:25"; NULL for relay=none
    dsn         text,             -- the enhanced status code of the latest event
    reason      text,             -- its text, as Postfix logged it in parentheses
    deferrals   int NOT NULL DEFAULT 0,
    at          timestamptz NOT NULL,   -- when Postfix logged the latest event
    log_inode   bigint,                 -- and where: the log file and the line's byte offset in it
    log_offset  bigint,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_mta_state_idx ON delivery_mta (state, at);

-- Log lines name deliveries by the submission server's queue id.
CREATE INDEX deliveries_queue_id_idx ON deliveries (queue_id) WHERE queue_id IS NOT NULL;

-- Where reading each log file got to: the file is known by its inode and a
-- hash of its first line, so that a rotated or truncated file is noticed.
CREATE TABLE mta_log_position (
    path        text PRIMARY KEY,
    inode       bigint NOT NULL,
    first_line  text NOT NULL,        -- SHA-256 of the first line, hex; '' while it has none
    read_to     bigint NOT NULL CHECK (read_to >= 0),
    lines       bigint NOT NULL DEFAULT 0,
    events      bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A bounce seen in the log is a bounce row of source 'mta'; its DSN, when it
-- comes, is attached to that row rather than counted again (engine/store/bounces.c).
ALTER TABLE bounces DROP CONSTRAINT bounces_source_check;
ALTER TABLE bounces ADD CONSTRAINT bounces_source_check CHECK (source IN ('smtp', 'dsn', 'arf', 'api', 'text', 'mta'));
CREATE UNIQUE INDEX bounces_mta_delivery_key ON bounces (delivery_id) WHERE source = 'mta';

-- mta_event_apply - one delivery event from the log. QID and RCPT (or ORIG,
-- the address before rewriting) find the delivery; RCPT '' with ST 'expired'
-- is qmgr's expiry of every still-deferred recipient of QID. Returns the rows
-- whose state changed (none when nothing matched or the event was already
-- applied): a final state is kept, a deferral counts once. INODE_ and OFF_
-- name the line: a deferral logged before the latest event, or in the same
-- second at an offset not after it in the same file, is one read again (a
-- maillog_file's timestamps have whole seconds).
CREATE FUNCTION mta_event_apply(qid text, rcpt text, orig text, st text, at_ timestamptz, host_ text, dsn_ text,
                                reason_ text, inode_ bigint, off_ bigint)
RETURNS TABLE (delivery_id bigint, state text, dsn text, reason text, host text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    d bigint;
    cur delivery_mta;
BEGIN
    IF st = 'expired' AND rcpt = '' THEN
        RETURN QUERY
        UPDATE delivery_mta m SET state = 'expired', at = at_, log_inode = inode_, log_offset = off_, updated_at = now()
        FROM deliveries dl
        WHERE dl.queue_id = qid AND m.delivery_id = dl.id AND m.state = 'deferred' AND m.at <= at_
        RETURNING m.delivery_id, m.state, m.dsn, m.reason, m.host;
        RETURN;
    END IF;
    SELECT dl.id INTO d FROM deliveries dl JOIN subscribers s ON s.id = dl.subscriber_id
    WHERE dl.queue_id = qid AND (lower(s.email) = lower(rcpt) OR (orig <> '' AND lower(s.email) = lower(orig)))
    ORDER BY dl.id DESC LIMIT 1;
    IF d IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO cur FROM delivery_mta m WHERE m.delivery_id = d FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO delivery_mta AS m (delivery_id, state, host, dsn, reason, deferrals, at, log_inode, log_offset)
        VALUES (d, st, nullif(host_, ''), nullif(dsn_, ''), nullif(reason_, ''),
                CASE WHEN st = 'deferred' THEN 1 ELSE 0 END, at_, inode_, off_)
        ON CONFLICT ON CONSTRAINT delivery_mta_pkey DO NOTHING
        RETURNING m.delivery_id, m.state, m.dsn, m.reason, m.host INTO delivery_id, state, dsn, reason, host;
        IF FOUND THEN
            RETURN NEXT;
        END IF;
        RETURN;
    END IF;
    IF cur.state <> 'deferred' OR at_ < cur.at
       OR (st = 'deferred' AND at_ = cur.at AND inode_ = cur.log_inode AND off_ <= cur.log_offset) THEN
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE delivery_mta m SET state = st, host = coalesce(nullif(host_, ''), CASE WHEN st = 'deferred' THEN NULL ELSE m.host END),
        dsn = coalesce(nullif(dsn_, ''), m.dsn), reason = coalesce(nullif(reason_, ''), m.reason),
        deferrals = m.deferrals + CASE WHEN st = 'deferred' THEN 1 ELSE 0 END, at = at_, log_inode = inode_,
        log_offset = off_, updated_at = now()
    WHERE m.delivery_id = d
    RETURNING m.delivery_id, m.state, m.dsn, m.reason, m.host;
END $$;
