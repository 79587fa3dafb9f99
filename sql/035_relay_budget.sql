-- 035_relay_budget: a relay's rate and quota shared by every sender.
--
-- A relay's limits are the submission server's (PolicyD counts a quota per
-- sending account, whoever sends): two senders must not send twice the
-- quota. Each sender asks here for a slice of the relay's budget before it
-- gives messages to the relay, a few at a time, and spends the slice on its
-- own. The budget is a token bucket for the rate (messages per second, a
-- second's worth at most at once) and a counter for the quota that decays
-- linearly, by the quota every period, as PolicyD's does. A slice is never
-- given back: what a sender that stops or dies had left is simply not sent,
-- so the cluster may send a little less than the limits, never more.

CREATE TABLE relay_budget (
    relay      text PRIMARY KEY,
    credit     double precision NOT NULL DEFAULT 0,    -- tokens in the bucket
    bucket_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    used       double precision NOT NULL DEFAULT 0,    -- the quota's counter, in recipients
    quota_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    handed     bigint NOT NULL DEFAULT 0               -- messages handed out in slices (for stats)
);

-- relay_budget_take - up to WANT more messages for relay NAME whose limits are
-- RATE messages per second (0: none) and QUOTA recipients per PERIOD_S
-- seconds (0: none): how many may go now, and when none, the milliseconds
-- until one may.
CREATE FUNCTION relay_budget_take(name text, want int, rate double precision, quota bigint, period_s bigint,
                                  OUT granted int, OUT wait_ms int)
    LANGUAGE plpgsql AS $$
DECLARE
    b relay_budget;
    t timestamptz := clock_timestamp();
    burst double precision := greatest(1, rate);
    c double precision;
    u double precision;
    room double precision := want;
BEGIN
    INSERT INTO relay_budget (relay, credit) VALUES (name, burst) ON CONFLICT DO NOTHING;
    SELECT * INTO b FROM relay_budget r WHERE r.relay = name FOR UPDATE;
    c := b.credit;
    u := b.used;
    wait_ms := 0;
    IF rate > 0 THEN
        c := least(burst, c + rate * extract(epoch FROM t - b.bucket_at));
        room := least(room, floor(c + 1e-9));
    END IF;
    IF quota > 0 AND period_s > 0 THEN
        u := greatest(0, u - quota * extract(epoch FROM t - b.quota_at) / period_s);
        room := least(room, floor(quota - u + 1e-9));
    END IF;
    granted := greatest(0, least(want, room))::int;
    IF granted = 0 THEN
        IF rate > 0 AND c < 1 THEN
            wait_ms := greatest(wait_ms, ceil((1 - c) / rate * 1000)::int);
        END IF;
        IF quota > 0 AND period_s > 0 AND u + 1 > quota THEN
            wait_ms := greatest(wait_ms, ceil((u + 1 - quota) * period_s * 1000.0 / quota)::int);
        END IF;
        wait_ms := least(greatest(wait_ms, 10), 60000);
    END IF;
    UPDATE relay_budget r SET credit = CASE WHEN rate > 0 THEN c - granted ELSE r.credit END, bucket_at = t,
        used = u + granted, quota_at = t, handed = r.handed + granted
        WHERE r.relay = name;
END $$;
