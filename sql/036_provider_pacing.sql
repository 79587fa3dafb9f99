-- 036_provider_pacing: a provider's pace, slowed when it defers for rate or
-- reputation and raised again slowly (AIMD), and warm-up schedules: shared
-- by every sender, applied when deliveries are claimed (pace_hold, called by
-- the claim in engine/store/ledger.c).
--
-- A provider may have limits: messages per minute and per hour for the whole
-- cluster. The minute's is a token bucket (a tenth of a minute's worth at
-- most at once), the hour's a counter that decays linearly by the limit
-- every hour. What a claim takes beyond them is not leased: it stays queued
-- (or deferred) with next_attempt_at pushed to when its turn comes at the
-- pace in force, one after the other after those held before (queue_until),
-- and held_for 'pace'. It is not
-- submitted, not failed, not counted as a deferral.
--
-- Adaptive: a deferral whose code or text says "rate" or "reputation"
-- (provider_rate_texts, data) is recorded as Postfix's log is read (the
-- delivery_mta trigger below) or as the relay answers (the ledger's record);
-- when a provider's such deferrals in its window (aimd_window_s) reach its
-- threshold (aimd_threshold), its rate per minute is halved (from the rate
-- in force; a provider with no limit from what it took in the last minute),
-- at most once a window; each minute with none in the window raises it by a
-- tenth of the rate it had before, until it is that again. Every halving and
-- every return to full pace is a row of provider_pace_events with its
-- reason.
--
-- Warm-up: a daily cap per sending domain (the campaign's From domain) or
-- per relay ('relay:NAME'), growing day by day (days[1] the first day, a
-- UTC day), editable; past the last day, no cap. A relay's cap counts every
-- delivery that may go through it: of campaigns naming it, and of campaigns
-- naming none. What is over today's cap waits (held_for 'warmup:TARGET') until the
-- next UTC day. The cap counts deliveries as they are claimed: one claimed
-- and then given back by a sender that stops counts, so the cluster may send
-- a little less than a cap, never more.

ALTER TABLE providers
    ADD COLUMN per_minute     int CHECK (per_minute > 0),
    ADD COLUMN per_hour       int CHECK (per_hour > 0),
    ADD COLUMN aimd_threshold int NOT NULL DEFAULT 3 CHECK (aimd_threshold BETWEEN 1 AND 100000),
    ADD COLUMN aimd_window_s  int NOT NULL DEFAULT 120 CHECK (aimd_window_s BETWEEN 10 AND 86400);

-- A delivery held back: 'pace', or 'warmup:TARGET' (the warm-up whose cap is full); NULL: not held.
ALTER TABLE deliveries ADD COLUMN held_for text CHECK (held_for = 'pace' OR held_for LIKE 'warmup:%');

-- The shared state of a provider's pace.
CREATE TABLE provider_pace (
    provider_id int PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
    credit      double precision NOT NULL DEFAULT 1e9,    -- the minute's bucket (full at first)
    bucket_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    hour_used   double precision NOT NULL DEFAULT 0,      -- the hour's decaying counter
    hour_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    rate        double precision,                         -- the adaptive rate per minute; NULL: full pace
    ceiling     double precision,                         -- the rate to come back to
    rate_at     timestamptz,                              -- when rate last changed
    queue_until timestamptz,                              -- the turns given to held deliveries end here
    handed      bigint NOT NULL DEFAULT 0,                -- deliveries let go by the pace
    held        bigint NOT NULL DEFAULT 0                 -- deliveries held back (a delivery once per claim)
);

-- Deferral texts that mean "too fast" or "bad reputation": a case-insensitive
-- part of the enhanced code and text (as "4.7.28 host … said: 421 4.7.28 …"),
-- for one provider or (provider_id NULL) every provider.
CREATE TABLE provider_rate_texts (
    id          serial PRIMARY KEY,
    provider_id int REFERENCES providers (id) ON DELETE CASCADE,
    pattern     text NOT NULL CHECK (length(pattern) BETWEEN 2 AND 200),
    UNIQUE NULLS NOT DISTINCT (provider_id, pattern)
);
INSERT INTO provider_rate_texts (provider_id, pattern)
SELECT p.id, t.pattern FROM (VALUES ('google', '4.7.28'), ('google', 'rate limited'),
    ('microsoft', 'S3150'), ('microsoft', 'temporarily rate limited'), ('yahoo', 'TSS04')) t (name, pattern)
JOIN providers p ON p.name = t.name;
INSERT INTO provider_rate_texts (provider_id, pattern) VALUES (NULL, '421 4.7.0');

-- The rate deferrals of the last day (what the window counts).
CREATE TABLE provider_rate_deferrals (
    provider_id int NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    reason      text NOT NULL
);
CREATE INDEX provider_rate_deferrals_idx ON provider_rate_deferrals (provider_id, at);

-- Halvings and returns to full pace.
CREATE TABLE provider_pace_events (
    id          bigserial PRIMARY KEY,
    provider_id int NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind        text NOT NULL CHECK (kind IN ('halved', 'restored')),
    rate_from   double precision,
    rate_to     double precision,
    deferrals   int NOT NULL DEFAULT 0,      -- the rate deferrals in the window that decided it
    reason      text NOT NULL DEFAULT ''     -- the latest of them
);
CREATE INDEX provider_pace_events_idx ON provider_pace_events (provider_id, at);

-- Warm-up curves by name, and the schedules in force.
CREATE TABLE warmup_curves (
    name  text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    days  int[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 366 AND 0 < ALL (days))
);
INSERT INTO warmup_curves VALUES
    ('standard', '{50,100,200,300,500,750,1000,1500,2000,3000,4000,5000,6000,8000,10000,12500,15000,17500,20000,25000,30000,35000,40000,50000,60000,70000,80000,90000,100000,120000}'),
    ('gentle', '{20,40,60,80,100,150,200,250,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,7000,8000,10000,12000,14000,16000,18000,20000}');

CREATE TABLE warmups (
    target     text PRIMARY KEY CHECK (target ~ '^(relay:[A-Za-z0-9._-]{1,64}|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)$'),
    days       int[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 366 AND 0 < ALL (days)),
    curve      text,                  -- the named curve it was made from, or NULL
    starts_on  date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE warmup_counts (
    target  text NOT NULL,
    day     date NOT NULL,
    n       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (target, day)
);

-- warmup_cap - TARGET's cap on day D (NULL: none, the schedule is over or there is none)
CREATE FUNCTION warmup_cap(w warmups, d date) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT w.days[d - w.starts_on + 1] WHERE d >= w.starts_on
$$;

-- pace_limit - the per-minute limit in force for a provider (NULL: none)
CREATE FUNCTION pace_limit(per_minute int, rate double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rate IS NULL THEN per_minute WHEN per_minute IS NULL THEN rate ELSE least(per_minute, rate) END
$$;

-- provider_pace_raise - P's adaptive rate raised a step for each full minute
-- with no rate deferral in the window since it last changed; back to full
-- pace (an event) at its ceiling. Called with P's provider_pace row locked
-- (by this transaction).
CREATE FUNCTION provider_pace_raise(p int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s provider_pace;
    pr providers;
    t timestamptz := clock_timestamp();
    steps int;
BEGIN
    SELECT * INTO s FROM provider_pace WHERE provider_id = p;
    IF s.rate IS NULL OR t - s.rate_at < interval '1 minute' THEN
        RETURN;
    END IF;
    SELECT * INTO pr FROM providers WHERE id = p;
    IF EXISTS (SELECT 1 FROM provider_rate_deferrals d WHERE d.provider_id = p
               AND d.at > t - make_interval(secs => pr.aimd_window_s)) THEN
        RETURN;
    END IF;
    steps := floor(extract(epoch FROM t - s.rate_at) / 60);
    s.rate := s.rate + steps * greatest(1, s.ceiling / 10);
    IF s.rate >= s.ceiling THEN
        INSERT INTO provider_pace_events (provider_id, kind, rate_from, rate_to)
        VALUES (p, 'restored', s.rate - steps * greatest(1, s.ceiling / 10), s.ceiling);
        UPDATE provider_pace SET rate = NULL, ceiling = NULL, rate_at = t WHERE provider_id = p;
    ELSE
        UPDATE provider_pace SET rate = s.rate, rate_at = s.rate_at + make_interval(secs => steps * 60)
        WHERE provider_id = p;
    END IF;
END $$;

-- provider_rate_deferral - a deferral of mail to provider P whose code and
-- text are TXT: when it means "rate" or "reputation", it is recorded, and
-- when the window holds the threshold of them (none halved it yet), P's
-- rate is halved. True when it was such a deferral.
CREATE FUNCTION provider_rate_deferral(p int, txt text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    pr providers;
    s provider_pace;
    t timestamptz := clock_timestamp();
    n int;
    cur double precision;
    pass int;
BEGIN
    IF p IS NULL OR NOT EXISTS (SELECT 1 FROM provider_rate_texts r
            WHERE (r.provider_id = p OR r.provider_id IS NULL) AND strpos(lower(txt), lower(r.pattern)) > 0) THEN
        RETURN false;
    END IF;
    SELECT * INTO pr FROM providers WHERE id = p;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO provider_rate_deferrals (provider_id, at, reason) VALUES (p, t, left(txt, 500));
    DELETE FROM provider_rate_deferrals WHERE provider_id = p AND at < t - interval '1 day';
    INSERT INTO provider_pace (provider_id) VALUES (p) ON CONFLICT DO NOTHING;
    -- read, then locked only to halve (the claims take this row too)
    FOR pass IN 1 .. 2 LOOP
        IF pass = 1 THEN
            SELECT * INTO s FROM provider_pace WHERE provider_id = p;
        ELSE
            SELECT * INTO s FROM provider_pace WHERE provider_id = p FOR UPDATE;
        END IF;
        -- once a window: what was sent before a halving is still being deferred after it
        IF s.rate_at IS NOT NULL AND s.rate_at > t - make_interval(secs => pr.aimd_window_s)
           AND EXISTS (SELECT 1 FROM provider_pace_events e WHERE e.provider_id = p AND e.kind = 'halved'
                       AND e.at = s.rate_at) THEN
            RETURN true;
        END IF;
        SELECT count(*) INTO n FROM provider_rate_deferrals d WHERE d.provider_id = p
            AND d.at > greatest(t - make_interval(secs => pr.aimd_window_s), coalesce(s.rate_at, '-infinity'));
        IF n < pr.aimd_threshold THEN
            RETURN true;
        END IF;
    END LOOP;
    cur := pace_limit(pr.per_minute, s.rate);
    IF cur IS NULL THEN
        -- no limit: what it took in the last minute, as the log tells
        SELECT count(*) INTO cur FROM delivery_mta m WHERE m.provider_id = p AND m.at > t - interval '1 minute';
        cur := greatest(cur, 2);
    END IF;
    INSERT INTO provider_pace_events (provider_id, at, kind, rate_from, rate_to, deferrals, reason)
    VALUES (p, t, 'halved', cur, greatest(1, cur / 2), n, left(txt, 500));
    UPDATE provider_pace SET rate = greatest(1, cur / 2), ceiling = coalesce(s.ceiling, pr.per_minute, cur),
        rate_at = t, credit = least(credit, greatest(1, cur / 20))
    WHERE provider_id = p;
    RETURN true;
END $$;

-- delivery_mta_rate - a new deferral Postfix's log told of feeds its provider's pace
CREATE FUNCTION delivery_mta_rate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.deferrals <= OLD.deferrals THEN
        RETURN NULL;
    END IF;
    PERFORM provider_rate_deferral(NEW.provider_id, coalesce(NEW.dsn, '') || ' ' || coalesce(NEW.reason, ''));
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_mta_rate AFTER INSERT OR UPDATE ON delivery_mta
    FOR EACH ROW WHEN (NEW.state = 'deferred' AND NEW.provider_id IS NOT NULL)
    EXECUTE FUNCTION delivery_mta_rate();

-- provider_pace_take - up to WANT deliveries to provider P may go now:
-- GRANTED of them; the first of the rest may go in WAIT_S seconds, each
-- next one GAP_S later.
CREATE FUNCTION provider_pace_take(p int, want int, OUT granted int, OUT wait_s double precision,
                                   OUT gap_s double precision)
LANGUAGE plpgsql AS $$
DECLARE
    pr providers;
    s provider_pace;
    t timestamptz := clock_timestamp();
    lim double precision;
    burst double precision;
    c double precision;
    u double precision;
    room double precision := want;
BEGIN
    wait_s := 0;
    gap_s := 0;
    SELECT * INTO pr FROM providers WHERE id = p;
    INSERT INTO provider_pace (provider_id) VALUES (p) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM provider_pace WHERE provider_id = p FOR UPDATE;
    PERFORM provider_pace_raise(p);
    SELECT * INTO s FROM provider_pace WHERE provider_id = p;
    lim := pace_limit(pr.per_minute, s.rate);
    IF lim IS NULL AND pr.per_hour IS NULL THEN
        granted := want;
        UPDATE provider_pace SET handed = handed + want WHERE provider_id = p;
        RETURN;
    END IF;
    c := s.credit;
    u := s.hour_used;
    IF lim IS NOT NULL THEN
        burst := greatest(1, lim / 10);
        c := least(burst, c + lim / 60 * greatest(0, extract(epoch FROM t - s.bucket_at)));
        room := least(room, floor(c + 1e-9));
    END IF;
    IF pr.per_hour IS NOT NULL THEN
        u := greatest(0, u - pr.per_hour * greatest(0, extract(epoch FROM t - s.hour_at)) / 3600);
        room := least(room, floor(pr.per_hour - u + 1e-9));
    END IF;
    granted := greatest(0, least(want, room))::int;
    IF granted < want THEN
        IF lim IS NOT NULL THEN
            gap_s := 60 / lim;
            wait_s := greatest(0, 1 - (c - granted)) * gap_s;
        END IF;
        IF pr.per_hour IS NOT NULL AND u + granted + 1 > pr.per_hour THEN
            wait_s := greatest(wait_s, (u + granted + 1 - pr.per_hour) * 3600 / pr.per_hour);
            gap_s := greatest(gap_s, 3600.0 / pr.per_hour);
        END IF;
        wait_s := greatest(wait_s, 0.05);
    END IF;
    UPDATE provider_pace SET credit = CASE WHEN lim IS NOT NULL THEN c - granted ELSE credit END,
        bucket_at = greatest(t, bucket_at), hour_used = CASE WHEN pr.per_hour IS NOT NULL THEN u + granted ELSE 0 END,
        hour_at = greatest(t, hour_at),
        handed = handed + granted, held = held + (want - granted)
    WHERE provider_id = p;
END $$;

-- pace_on - is any pace or warm-up in force (else a claim holds nothing back)
CREATE FUNCTION pace_on() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM warmups)
        OR EXISTS (SELECT 1 FROM providers WHERE per_minute IS NOT NULL OR per_hour IS NOT NULL)
        OR EXISTS (SELECT 1 FROM provider_pace WHERE rate IS NOT NULL)
$$;

-- pace_hold - of the deliveries IDS (in claim order) to addresses EMAILS of
-- campaigns CAMPS, those that must wait: for their provider's pace (until
-- their turn), else for today's warm-up cap of their sending domain or relay
-- (until the next UTC day). What is let go is counted.
CREATE FUNCTION pace_hold(ids bigint[], emails text[], camps bigint[])
RETURNS TABLE (id bigint, until_at timestamptz, why text)
LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := clock_timestamp();
    today date := (t AT TIME ZONE 'UTC')::date;
    tomorrow timestamptz := ((t AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC';
    held bigint[] := '{}';
    start timestamptz;
    g record;
    tk record;
    wt text[];
    wroom bigint[];
    wused bigint[];
    mine int[];
    last_camp bigint;
    ok boolean;
    tx boolean;
    pass int;
    j int;
    k int;
BEGIN
    IF NOT pace_on() OR coalesce(cardinality(ids), 0) = 0 THEN
        RETURN;
    END IF;
    -- the providers' pace, each provider's rows in claim order (providers locked in id order)
    FOR tk IN WITH r AS (SELECT u.id, u.n, provider_domain_of(u.email) AS dom
                         FROM unnest(ids, emails) WITH ORDINALITY AS u (id, email, n)),
                   d AS MATERIALIZED (SELECT z.dom, provider_of(z.dom) AS pid FROM (SELECT DISTINCT r.dom FROM r) z)
            SELECT d.pid, array_agg(r.id ORDER BY r.n) AS rids FROM r JOIN d USING (dom)
            JOIN providers p ON p.id = d.pid LEFT JOIN provider_pace s ON s.provider_id = d.pid
            WHERE p.per_minute IS NOT NULL OR p.per_hour IS NOT NULL OR s.rate IS NOT NULL
            GROUP BY d.pid ORDER BY d.pid LOOP
        SELECT * INTO g FROM provider_pace_take(tk.pid, cardinality(tk.rids));
        IF g.granted < cardinality(tk.rids) THEN
            -- their turns, one gap apart, after those given to deliveries held before (a queue:
            -- about one comes due at each turn, however many claims held them)
            SELECT greatest(t + make_interval(secs => g.wait_s), coalesce(s.queue_until, t)) INTO start
            FROM provider_pace s WHERE s.provider_id = tk.pid;
            RETURN QUERY SELECT x.rid, start + make_interval(secs => (x.k - g.granted - 1) * g.gap_s), 'pace'::text
                FROM unnest(tk.rids) WITH ORDINALITY AS x (rid, k) WHERE x.k > g.granted;
            UPDATE provider_pace SET queue_until = start + make_interval(secs => (cardinality(tk.rids) - g.granted) * g.gap_s)
            WHERE provider_id = tk.pid;
            held := held || tk.rids[g.granted + 1 :];
        END IF;
    END LOOP;
    -- warm-up: each row let go needs room under every cap that applies to it; one claim at a
    -- time counts (the lock first, then a statement that sees what the one before counted)
    IF NOT EXISTS (SELECT 1 FROM warmups) THEN
        RETURN;
    END IF;
    PERFORM 1 FROM warmups w ORDER BY w.target FOR UPDATE;
    SELECT array_agg(w.target ORDER BY w.target), array_agg(warmup_cap(w, today) - coalesce(c.n, 0) ORDER BY w.target)
    INTO wt, wroom FROM warmups w LEFT JOIN warmup_counts c ON c.target = w.target AND c.day = today
    WHERE warmup_cap(w, today) IS NOT NULL;
    IF wt IS NULL THEN
        RETURN;
    END IF;
    wused := array_fill(0::bigint, ARRAY[cardinality(wt)]);
    -- transactional mail (a password reset, a receipt) first: it counts
    -- against the caps but never waits for tomorrow, and newsletters make
    -- room for it; then the rest, in claim order
    FOR pass IN 1 .. 2 LOOP
        last_camp := NULL;
        FOR j IN 1 .. cardinality(ids) LOOP
            CONTINUE WHEN ids[j] = ANY (held);
            IF last_camp IS DISTINCT FROM camps[j] THEN
                SELECT coalesce(array_agg(x.k), '{}') INTO mine FROM campaigns c, unnest(wt) WITH ORDINALITY AS x (tg, k)
                WHERE c.id = camps[j] AND (x.tg = provider_domain_of(c.from_addr)
                      OR (x.tg LIKE 'relay:%' AND (c.relay IS NULL OR x.tg = 'relay:' || c.relay)));
                SELECT c.kind = 'tx' INTO tx FROM campaigns c WHERE c.id = camps[j];
                last_camp := camps[j];
            END IF;
            CONTINUE WHEN tx <> (pass = 1);
            ok := true;
            FOREACH k IN ARRAY mine LOOP
                IF ok AND wused[k] >= wroom[k] THEN
                    ok := false;
                    why := 'warmup:' || wt[k];
                END IF;
            END LOOP;
            IF ok OR tx THEN
                FOREACH k IN ARRAY mine LOOP
                    wused[k] := wused[k] + 1;
                END LOOP;
            ELSE
                id := ids[j];
                until_at := tomorrow;
                RETURN NEXT;
            END IF;
        END LOOP;
    END LOOP;
    INSERT INTO warmup_counts AS wc (target, day, n)
    SELECT x.tg, today, x.n FROM unnest(wt, wused) AS x (tg, n) WHERE x.n > 0 ORDER BY x.tg
    ON CONFLICT (target, day) DO UPDATE SET n = wc.n + excluded.n;
END $$;

-- What waits for a pace or a warm-up, found by campaign.
CREATE INDEX deliveries_held_idx ON deliveries (campaign_id, held_for, next_attempt_at)
    WHERE held_for IS NOT NULL AND state IN ('queued', 'deferred');

-- provider_pace_json - provider PID's pace: its limits, the rate in force
-- (per minute; NULL: none), whether it is slowed and since when, the rate
-- deferrals in its window, its latest halvings and returns, its texts
CREATE FUNCTION provider_pace_json(pid int) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('per_minute', p.per_minute, 'per_hour', p.per_hour,
        'rate_per_minute', round(pace_limit(p.per_minute, s.rate)::numeric, 2)::float8,
        'slowed', s.rate IS NOT NULL, 'full_rate', round(s.ceiling::numeric, 2)::float8,
        'slowed_at', CASE WHEN s.rate IS NOT NULL THEN s.rate_at END,
        'aimd_threshold', p.aimd_threshold, 'aimd_window_s', p.aimd_window_s,
        'handed', coalesce(s.handed, 0), 'held', coalesce(s.held, 0),
        'rate_deferrals', (SELECT count(*) FROM provider_rate_deferrals d WHERE d.provider_id = p.id
                           AND d.at > now() - make_interval(secs => p.aimd_window_s)),
        'events', (SELECT coalesce(jsonb_agg(jsonb_build_object('at', e.at, 'kind', e.kind,
                       'rate_from', round(e.rate_from::numeric, 2)::float8, 'rate_to', round(e.rate_to::numeric, 2)::float8,
                       'deferrals', e.deferrals, 'reason', e.reason) ORDER BY e.id DESC), '[]')
                   FROM (SELECT * FROM provider_pace_events e WHERE e.provider_id = p.id ORDER BY e.id DESC LIMIT 20) e),
        'rate_texts', (SELECT coalesce(jsonb_agg(t.pattern ORDER BY t.pattern), '[]') FROM provider_rate_texts t
                       WHERE t.provider_id = p.id))
    FROM providers p LEFT JOIN provider_pace s ON s.provider_id = p.id WHERE p.id = pid
$$;

-- warmup_applies - does warm-up target TG count mail of campaign C
CREATE FUNCTION warmup_applies(tg text, c campaigns) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT tg = provider_domain_of(c.from_addr) OR (tg LIKE 'relay:%' AND (c.relay IS NULL OR tg = 'relay:' || c.relay))
$$;

-- warmup_json - a warm-up: its caps, today's day of it, cap and count,
-- tomorrow's cap, and the deliveries waiting for it (and until when)
CREATE FUNCTION warmup_json(w warmups) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH t AS (SELECT (now() AT TIME ZONE 'UTC')::date AS today)
    SELECT jsonb_build_object('target', w.target, 'days', to_jsonb(w.days), 'curve', w.curve,
        'starts_on', w.starts_on, 'day', t.today - w.starts_on + 1,
        'cap_today', warmup_cap(w, t.today), 'sent_today', coalesce(c.n, 0),
        'cap_tomorrow', warmup_cap(w, t.today + 1), 'done', t.today - w.starts_on + 1 > cardinality(w.days),
        'waiting', (SELECT count(*) FROM campaigns cp JOIN deliveries d ON d.campaign_id = cp.id
                    AND d.held_for = 'warmup:' || w.target AND d.state IN ('queued', 'deferred')
                    AND d.next_attempt_at > now() WHERE cp.status = 'running'),
        'waiting_until', (SELECT min(d.next_attempt_at) FROM campaigns cp JOIN deliveries d ON d.campaign_id = cp.id
                    AND d.held_for = 'warmup:' || w.target AND d.state IN ('queued', 'deferred')
                    AND d.next_attempt_at > now() WHERE cp.status = 'running'),
        'created_at', w.created_at, 'updated_at', w.updated_at)
    FROM t LEFT JOIN warmup_counts c ON c.target = w.target AND c.day = t.today
$$;

-- campaign_pace_json - campaign CID's pacing: the providers paced or slowed
-- (those with limits, slowed now, or slowed in the last day), its
-- deliveries held for a pace now, and those waiting for a warm-up (how
-- many, until when, and the warm-ups that count its mail)
CREATE FUNCTION campaign_pace_json(cid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'providers', (SELECT coalesce(jsonb_agg(jsonb_build_object('provider', p.name) || provider_pace_json(p.id)
                          ORDER BY p.name), '[]')
                      FROM providers p LEFT JOIN provider_pace s ON s.provider_id = p.id
                      WHERE p.per_minute IS NOT NULL OR p.per_hour IS NOT NULL OR s.rate IS NOT NULL
                         OR EXISTS (SELECT 1 FROM provider_pace_events e WHERE e.provider_id = p.id
                                    AND e.at > now() - interval '1 day')),
        'held_for_pace', (SELECT count(*) FROM deliveries d WHERE d.campaign_id = cid AND d.held_for = 'pace'
                          AND d.state IN ('queued', 'deferred') AND d.next_attempt_at > now()),
        'warmup_waiting', (SELECT count(*) FROM deliveries d WHERE d.campaign_id = cid AND d.held_for LIKE 'warmup:%'
                           AND d.state IN ('queued', 'deferred') AND d.next_attempt_at > now()),
        'warmup_until', (SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.campaign_id = cid
                         AND d.held_for LIKE 'warmup:%' AND d.state IN ('queued', 'deferred') AND d.next_attempt_at > now()),
        'warmups', (SELECT coalesce(jsonb_agg(warmup_json(w) ORDER BY w.target), '[]') FROM warmups w, campaigns c
                    WHERE c.id = cid AND warmup_applies(w.target, c)))
$$;
