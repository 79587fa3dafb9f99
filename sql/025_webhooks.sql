-- 025_webhooks: outgoing webhooks. The endpoints applications register, the
-- outbox of events each one is owed, and the log of every attempt to deliver.
--
-- Every event is written to the outbox by a trigger on the table whose change
-- it reports, in the statement's own transaction: a change that rolls back
-- leaves no event, and a change that commits has its event, whoever made it
-- (the command line, the API, the sender, the bounce pipe, an import).
-- One outbox row per event and endpoint that wants it, none when no enabled
-- endpoint wants that type. The triggers of a table are enabled only while
-- some enabled endpoint wants one of their events (webhook_triggers_sync,
-- run by every change to the endpoints), so a table no webhook listens to
-- pays nothing on its writes, the deliveries of a campaign first of all.
-- They are enabled ALWAYS: the importer's fast path (session_replication_role
-- replica) fires them too.
--
-- Delivery (engine/send/webhooks.c): a worker claims rows with FOR UPDATE SKIP
-- LOCKED under a lease (its backend's pid and a time: a row whose worker's
-- connection is gone, or whose lease ran out, is claimable again), sends each
-- one signed as Standard Webhooks says, and records the outcomes in one
-- transaction (webhook_record). An event is not claimed while an earlier event
-- of the same subject (a subscriber, a campaign, an import) to the same
-- endpoint is still queued: per subject, events arrive in order.

CREATE TABLE webhook_endpoints (
    id              bigserial PRIMARY KEY,
    url             text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    events          text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 64),
    secret          text NOT NULL CHECK (secret LIKE 'whsec\_%'),   -- never listed
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text CHECK (length(disabled_reason) <= 1000),
    disabled_at     timestamptz,
    failures        int NOT NULL DEFAULT 0,      -- consecutive failed attempts
    failing_since   timestamptz,                 -- the first of them
    last_success_at timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The outbox. subject orders: 'subscriber:ID', 'campaign:ID', 'import:ID', 'bounce:ID'.
-- state: queued (to send, or being sent under a lease), done (answered 2xx),
-- dead (still failing when its retry window closed).
CREATE TABLE webhook_events (
    id              bigserial PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    type            text NOT NULL,
    subject         text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_pid       int,
    lease_until     timestamptz,
    last_status     int,
    last_error      text,
    done_at         timestamptz
) WITH (fillfactor = 70,   -- room for the lease's updates to stay on their page (HOT)
        autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX webhook_events_due_idx ON webhook_events (endpoint_id, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX webhook_events_subject_idx ON webhook_events (endpoint_id, subject, id) WHERE state = 'queued';
CREATE INDEX webhook_events_endpoint_idx ON webhook_events (endpoint_id, created_at, id);

-- Every attempt: status NULL when no HTTP answer came (error says why).
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    bigint NOT NULL,
    type        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    status      int,
    latency_ms  int NOT NULL,
    error       text
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);

-- The triggers build their events straight as rows; the few endpoints are
-- joined once per statement.
CREATE FUNCTION webhook_on_subscribers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_events (endpoint_id, type, subject, payload)
        SELECT w.id, 'subscriber.created', 'subscriber:' || n.id,
               jsonb_build_object('id', n.id, 'email', n.email, 'name', n.name, 'status', n.status,
                                  'attribs', n.attribs, 'created_at', n.created_at)
        FROM new_rows n JOIN webhook_endpoints w ON w.enabled AND 'subscriber.created' = ANY (w.events)
        ORDER BY n.id, w.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO webhook_events (endpoint_id, type, subject, payload)
        SELECT w.id, 'subscriber.updated', 'subscriber:' || n.id,
               jsonb_build_object('id', n.id, 'email', n.email, 'name', n.name, 'status', n.status,
                                  'attribs', n.attribs, 'changed',
                                  to_jsonb(array_remove(ARRAY[
                                      CASE WHEN n.email IS DISTINCT FROM o.email THEN 'email' END,
                                      CASE WHEN n.name IS DISTINCT FROM o.name THEN 'name' END,
                                      CASE WHEN n.status IS DISTINCT FROM o.status THEN 'status' END,
                                      CASE WHEN n.attribs IS DISTINCT FROM o.attribs THEN 'attribs' END], NULL)))
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN webhook_endpoints w ON w.enabled AND 'subscriber.updated' = ANY (w.events)
        WHERE (n.email, n.name, n.status, n.attribs) IS DISTINCT FROM (o.email, o.name, o.status, o.attribs)
        ORDER BY n.id, w.id;
    ELSE
        INSERT INTO webhook_events (endpoint_id, type, subject, payload)
        SELECT w.id, 'subscriber.erased', 'subscriber:' || o.id, jsonb_build_object('id', o.id)
        FROM old_rows o JOIN webhook_endpoints w ON w.enabled AND 'subscriber.erased' = ANY (w.events)
        ORDER BY o.id, w.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER subscribers_webhook_ins AFTER INSERT ON subscribers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_subscribers();
CREATE TRIGGER subscribers_webhook_upd AFTER UPDATE ON subscribers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_subscribers();
CREATE TRIGGER subscribers_webhook_del AFTER DELETE ON subscribers REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_subscribers();

-- A subscription that becomes confirmed or unsubscribed (made so, or changed to it).
CREATE FUNCTION webhook_on_subscriptions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_events (endpoint_id, type, subject, payload)
        SELECT w.id, x.type, 'subscriber:' || x.subscriber_id,
               jsonb_build_object('subscriber_id', x.subscriber_id, 'email', s.email, 'list_id', x.list_id,
                                  'list', l.name, 'via', coalesce(nullif(current_setting('postino.via', true), ''), 'unknown'))
        FROM (SELECT n.subscriber_id, n.list_id, 'subscriber.' || n.status AS type FROM new_rows n
              WHERE n.status IN ('confirmed', 'unsubscribed')) x
        JOIN webhook_endpoints w ON w.enabled AND x.type = ANY (w.events)
        JOIN subscribers s ON s.id = x.subscriber_id LEFT JOIN lists l ON l.id = x.list_id
        ORDER BY x.subscriber_id, x.list_id, w.id;
    ELSE
        INSERT INTO webhook_events (endpoint_id, type, subject, payload)
        SELECT w.id, x.type, 'subscriber:' || x.subscriber_id,
               jsonb_build_object('subscriber_id', x.subscriber_id, 'email', s.email, 'list_id', x.list_id,
                                  'list', l.name, 'via', coalesce(nullif(current_setting('postino.via', true), ''), 'unknown'))
        FROM (SELECT n.subscriber_id, n.list_id, 'subscriber.' || n.status AS type
              FROM new_rows n JOIN old_rows o ON o.subscriber_id = n.subscriber_id AND o.list_id = n.list_id
              WHERE n.status IN ('confirmed', 'unsubscribed') AND o.status IS DISTINCT FROM n.status) x
        JOIN webhook_endpoints w ON w.enabled AND x.type = ANY (w.events)
        JOIN subscribers s ON s.id = x.subscriber_id LEFT JOIN lists l ON l.id = x.list_id
        ORDER BY x.subscriber_id, x.list_id, w.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_webhook_ins AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_subscriptions();
CREATE TRIGGER subscriptions_webhook_upd AFTER UPDATE ON subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_subscriptions();

-- A delivery sent, deferred (each time) or failed.
CREATE FUNCTION webhook_on_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, x.type, 'subscriber:' || x.subscriber_id,
           jsonb_build_object('delivery_id', x.id, 'campaign_id', x.campaign_id, 'subscriber_id', x.subscriber_id,
                              'email', s.email, 'attempts', x.attempts, 'smtp_code', x.smtp_code,
                              'smtp_enhanced', x.smtp_enhanced, 'smtp_reply', left(x.smtp_reply, 500),
                              'queue_id', x.queue_id, 'tx_key', x.tx_key)
    FROM (SELECT n.*, 'delivery.' || n.state AS type
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.state IN ('sent', 'deferred', 'failed')
            AND (o.state IS DISTINCT FROM n.state OR (n.state = 'deferred' AND n.attempts <> o.attempts))) x
    JOIN webhook_endpoints w ON w.enabled AND x.type = ANY (w.events)
    LEFT JOIN subscribers s ON s.id = x.subscriber_id
    ORDER BY x.subscriber_id, x.id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_webhook_upd AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_deliveries();

-- A bounce (with its class) or a complaint.
CREATE FUNCTION webhook_on_bounces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, x.type, coalesce('subscriber:' || x.subscriber_id, 'bounce:' || x.id),
           jsonb_build_object('id', x.id, 'subscriber_id', x.subscriber_id, 'email', x.email,
                              'campaign_id', x.campaign_id, 'delivery_id', x.delivery_id, 'class', x.class,
                              'source', x.source, 'status', x.status, 'diagnostic', left(x.diagnostic, 500))
    FROM (SELECT n.*, CASE WHEN n.class = 'complaint' THEN 'complaint.recorded' ELSE 'bounce.recorded' END AS type
          FROM new_rows n) x
    JOIN webhook_endpoints w ON w.enabled AND x.type = ANY (w.events)
    ORDER BY x.id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER bounces_webhook_ins AFTER INSERT ON bounces REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_bounces();

-- A first open of a delivery (repeats are counted, not reported).
CREATE FUNCTION webhook_on_opens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, 'email.opened', 'subscriber:' || d.subscriber_id,
           jsonb_build_object('delivery_id', n.delivery_id, 'campaign_id', n.campaign_id,
                              'subscriber_id', d.subscriber_id, 'email', s.email, 'at', n.first_at)
    FROM new_rows n JOIN deliveries d ON d.id = n.delivery_id LEFT JOIN subscribers s ON s.id = d.subscriber_id
    JOIN webhook_endpoints w ON w.enabled AND 'email.opened' = ANY (w.events)
    ORDER BY n.delivery_id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER opens_webhook_ins AFTER INSERT ON opens REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_opens();

-- A first click of a delivery on a link.
CREATE FUNCTION webhook_on_clicks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, 'email.clicked', 'subscriber:' || d.subscriber_id,
           jsonb_build_object('delivery_id', n.delivery_id, 'campaign_id', n.campaign_id,
                              'subscriber_id', d.subscriber_id, 'email', s.email, 'link_id', n.link_id,
                              'url', k.url, 'at', n.first_at)
    FROM new_rows n JOIN deliveries d ON d.id = n.delivery_id LEFT JOIN subscribers s ON s.id = d.subscriber_id
    JOIN links k ON k.id = n.link_id
    JOIN webhook_endpoints w ON w.enabled AND 'email.clicked' = ANY (w.events)
    ORDER BY n.delivery_id, n.link_id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER clicks_webhook_ins AFTER INSERT ON clicks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_clicks();

-- A campaign started (from draft or scheduled), paused or finished.
CREATE FUNCTION webhook_on_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, x.type, 'campaign:' || x.id,
           jsonb_build_object('id', x.id, 'name', x.name, 'subject', x.subject, 'status', x.status,
                              'started_at', x.started_at, 'finished_at', x.finished_at, 'total', x.n_total,
                              'sent', x.n_sent, 'failed', x.n_failed, 'skipped', x.n_skipped)
    FROM (SELECT n.*, CASE WHEN n.status = 'running' AND o.status IN ('draft', 'scheduled') THEN 'campaign.started'
                           WHEN n.status = 'paused' THEN 'campaign.paused'
                           WHEN n.status = 'finished' THEN 'campaign.finished' END AS type
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE n.kind = 'campaign' AND n.status IS DISTINCT FROM o.status) x
    JOIN webhook_endpoints w ON w.enabled AND x.type = ANY (w.events)
    ORDER BY x.id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_webhook_upd AFTER UPDATE ON campaigns
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_campaigns();

-- An import job done or failed (imports through the API and the admin).
CREATE FUNCTION webhook_on_import_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, 'import.finished', 'import:' || n.id,
           jsonb_build_object('id', n.id, 'state', n.state, 'options', n.options, 'summary', n.summary,
                              'error', n.error, 'finished_at', n.finished_at)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    JOIN webhook_endpoints w ON w.enabled AND 'import.finished' = ANY (w.events)
    WHERE n.state IN ('done', 'failed') AND o.state IS DISTINCT FROM n.state
    ORDER BY n.id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER import_jobs_webhook_upd AFTER UPDATE ON import_jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_import_jobs();
-- A job made done in one statement (a small import over HTTP) is an insert.
CREATE FUNCTION webhook_on_import_jobs_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_events (endpoint_id, type, subject, payload)
    SELECT w.id, 'import.finished', 'import:' || n.id,
           jsonb_build_object('id', n.id, 'state', n.state, 'options', n.options, 'summary', n.summary,
                              'error', n.error, 'finished_at', n.finished_at)
    FROM new_rows n JOIN webhook_endpoints w ON w.enabled AND 'import.finished' = ANY (w.events)
    WHERE n.state IN ('done', 'failed')
    ORDER BY n.id, w.id;
    RETURN NULL;
END $$;
CREATE TRIGGER import_jobs_webhook_ins AFTER INSERT ON import_jobs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_on_import_jobs_ins();

-- Which trigger reports which events.
CREATE TABLE webhook_triggers (
    tbl    text NOT NULL,
    trg    text PRIMARY KEY,
    events text[] NOT NULL
);
INSERT INTO webhook_triggers (tbl, trg, events) VALUES
    ('subscribers', 'subscribers_webhook_ins', '{subscriber.created}'),
    ('subscribers', 'subscribers_webhook_upd', '{subscriber.updated}'),
    ('subscribers', 'subscribers_webhook_del', '{subscriber.erased}'),
    ('subscriptions', 'subscriptions_webhook_ins', '{subscriber.confirmed,subscriber.unsubscribed}'),
    ('subscriptions', 'subscriptions_webhook_upd', '{subscriber.confirmed,subscriber.unsubscribed}'),
    ('deliveries', 'deliveries_webhook_upd', '{delivery.sent,delivery.deferred,delivery.failed}'),
    ('bounces', 'bounces_webhook_ins', '{bounce.recorded,complaint.recorded}'),
    ('opens', 'opens_webhook_ins', '{email.opened}'),
    ('clicks', 'clicks_webhook_ins', '{email.clicked}'),
    ('campaigns', 'campaigns_webhook_upd', '{campaign.started,campaign.paused,campaign.finished}'),
    ('import_jobs', 'import_jobs_webhook_upd', '{import.finished}'),
    ('import_jobs', 'import_jobs_webhook_ins', '{import.finished}');

-- webhook_triggers_sync - enable (ALWAYS) the triggers some enabled endpoint
-- wants, disable the others; a trigger already as it should be is left alone
-- (altering one locks its table).
CREATE FUNCTION webhook_triggers_sync() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t webhook_triggers;
    want boolean;
    cur "char";
BEGIN
    FOR t IN SELECT * FROM webhook_triggers ORDER BY tbl, trg LOOP
        want := EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.enabled AND w.events && t.events);
        SELECT g.tgenabled INTO cur FROM pg_trigger g WHERE g.tgname = t.trg AND g.tgrelid = t.tbl::regclass;
        IF want AND cur <> 'A' THEN
            EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t.tbl, t.trg);
        ELSIF NOT want AND cur <> 'D' THEN
            EXECUTE format('ALTER TABLE %I DISABLE TRIGGER %I', t.tbl, t.trg);
        END IF;
    END LOOP;
END $$;
SELECT webhook_triggers_sync();

-- webhook_claim - lease up to N events that are due, for LEASE, to this
-- backend: the oldest first, none behind an earlier queued event of its
-- subject and endpoint. Their signing secret and the body to send come along.
-- Each enabled endpoint's due events are read in index order, 4 N at most, so
-- a claim costs the same whatever the backlog; an event waiting for an
-- earlier one that failed waits until that one's next attempt
-- (webhook_record), so what fills those 4 N is mostly sendable. The lease is
-- checked again on the row locked: another worker may have taken it since.
-- No JIT: a claim runs in milliseconds, compiling it took a quarter of a
-- second. The table's statistics swing (nothing queued, then thousands): the
-- worker analyzes it when a claim turns slow (engine/send/webhooks.c).
CREATE FUNCTION webhook_claim(n int, lease interval)
RETURNS TABLE (id bigint, endpoint_id bigint, url text, secret text, body text, attempts int)
LANGUAGE sql SET jit = off AS $$
    WITH cand AS (
        SELECT x.id, x.next_attempt_at FROM webhook_endpoints e CROSS JOIN LATERAL (
            SELECT r.id, r.subject, r.next_attempt_at, r.lease_pid, r.lease_until FROM webhook_events r
            WHERE r.endpoint_id = e.id AND r.state = 'queued' AND r.next_attempt_at <= now()
            ORDER BY r.next_attempt_at, r.id LIMIT n * 4) x
        WHERE e.enabled
          AND (x.lease_pid IS NULL OR x.lease_until < now()
               OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = x.lease_pid))
          -- the first queued event of its subject (a correlated aggregate: always an index lookup per row,
          -- whatever the statistics of a table that grows fast say)
          AND x.id = (SELECT min(p.id) FROM webhook_events p WHERE p.endpoint_id = e.id
                      AND p.subject = x.subject AND p.state = 'queued')
        ORDER BY x.next_attempt_at, x.id LIMIT n),
    c AS (
        SELECT r.id FROM webhook_events r JOIN cand ON cand.id = r.id
        WHERE r.state = 'queued'
          AND (r.lease_pid IS NULL OR r.lease_until < now()
               OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.lease_pid))
        FOR UPDATE OF r SKIP LOCKED)
    UPDATE webhook_events w SET lease_pid = pg_backend_pid(), lease_until = now() + lease, attempts = w.attempts + 1
    FROM c, webhook_endpoints e WHERE w.id = c.id AND e.id = w.endpoint_id
    RETURNING w.id, w.endpoint_id, e.url, e.secret,
        json_build_object('type', w.type,
                          'timestamp', to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                          'data', w.payload)::text,
        w.attempts
$$;

-- webhook_record - the outcomes of attempts (arrays by event): a 2xx is
-- done; anything else is tried again after BASE * 2^(attempt-1) (at most an
-- hour, with jitter) until WIN after the event was made, then it is dead.
-- Each attempt goes to the log. An endpoint whose attempts all failed for
-- FAIL_WIN, or MAX_FAILS times in a row, is disabled with the reason.
-- Returns the number of endpoints disabled.
CREATE FUNCTION webhook_record(ids bigint[], statuses int[], latencies int[], errors text[],
                               base interval, win interval, max_fails int, fail_win interval)
RETURNS int LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    disabled int;
BEGIN
    WITH r AS (SELECT u.id, u.status, u.latency, u.error, coalesce(u.status BETWEEN 200 AND 299, false) AS ok, u.ord
               FROM unnest(ids, statuses, latencies, errors) WITH ORDINALITY AS u(id, status, latency, error, ord)),
    upd AS (
        UPDATE webhook_events w SET
            state = CASE WHEN r.ok THEN 'done' WHEN now() >= w.created_at + win THEN 'dead' ELSE 'queued' END,
            next_attempt_at = CASE WHEN r.ok THEN w.next_attempt_at
                ELSE least(w.created_at + win,
                           now() + least(base * power(2, least(greatest(w.attempts, 1), 30) - 1), interval '1 hour')
                                   * (0.8 + 0.4 * random())) END,
            lease_pid = NULL, lease_until = NULL, last_status = r.status, last_error = left(r.error, 500),
            done_at = CASE WHEN r.ok OR now() >= w.created_at + win THEN now() END
        FROM r WHERE w.id = r.id AND w.state = 'queued'
        RETURNING w.id, w.endpoint_id, w.subject, w.state, w.next_attempt_at),
    -- the later events of a subject whose event failed wait for its next attempt
    pushed AS (
        UPDATE webhook_events f SET next_attempt_at = h.next_attempt_at
        FROM upd h WHERE h.state = 'queued' AND f.endpoint_id = h.endpoint_id AND f.subject = h.subject
          AND f.state = 'queued' AND f.id > h.id AND f.next_attempt_at < h.next_attempt_at),
    re AS MATERIALIZED (SELECT r.*, w.endpoint_id, w.type FROM r JOIN webhook_events w ON w.id = r.id),
    logged AS (
        INSERT INTO webhook_attempts (endpoint_id, event_id, type, ok, status, latency_ms, error)
        SELECT re.endpoint_id, re.id, re.type, re.ok, re.status, re.latency, left(re.error, 500) FROM re ORDER BY re.ord),
    -- per endpoint: its last success in the batch, and the failures after it (all of them when none)
    lastok AS (SELECT endpoint_id, max(ord) FILTER (WHERE ok) AS ord FROM re GROUP BY endpoint_id),
    s AS (SELECT re.endpoint_id, l.ord AS last_ok_ord,
                 count(*) FILTER (WHERE NOT re.ok AND re.ord > coalesce(l.ord, 0)) AS fails,
                 (array_agg(re.error ORDER BY re.ord DESC) FILTER (WHERE NOT re.ok))[1] AS last_error
          FROM re JOIN lastok l ON l.endpoint_id = re.endpoint_id GROUP BY re.endpoint_id, l.ord)
    UPDATE webhook_endpoints e SET
        failures = CASE WHEN s.last_ok_ord IS NOT NULL THEN s.fails ELSE e.failures + s.fails END,
        failing_since = CASE WHEN s.last_ok_ord IS NOT NULL
                             THEN CASE WHEN s.fails > 0 THEN now() END
                             ELSE coalesce(e.failing_since, now()) END,
        last_success_at = CASE WHEN s.last_ok_ord IS NOT NULL THEN now() ELSE e.last_success_at END,
        last_error = coalesce(s.last_error, e.last_error)
    FROM s WHERE e.id = s.endpoint_id
      AND (s.last_ok_ord IS NULL OR s.fails > 0 OR e.failures <> 0 OR e.last_success_at IS NULL
           OR e.last_success_at < now() - interval '1 second');

    UPDATE webhook_endpoints e SET enabled = false, disabled_at = now(), updated_at = now(),
        disabled_reason = format('disabled after %s failed attempts in a row since %s; the last: %s', e.failures,
                                 to_char(e.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                                 coalesce(left(e.last_error, 300), 'unknown'))
    WHERE e.enabled AND e.failures > 0 AND (e.failures >= max_fails OR e.failing_since <= now() - fail_win);
    GET DIAGNOSTICS disabled = ROW_COUNT;
    RETURN disabled;
END $$;

-- webhook_prune - forget delivered and dead events and attempts older than KEEP.
CREATE FUNCTION webhook_prune(keep interval) RETURNS void LANGUAGE sql AS $$
    DELETE FROM webhook_events WHERE state <> 'queued' AND done_at < now() - keep;
    DELETE FROM webhook_attempts WHERE at < now() - keep;
$$;
