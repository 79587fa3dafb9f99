-- 019_track_counts: a campaign's opens, clicks and bounces counted as they
-- are written, so that its report and stats read a few hundred small rows
-- whatever the size of the campaign (before, a report at a million recipients
-- counted every open and every bounce of the campaign on each load).
--
-- The counts are of what happened: a row of opens, clicks or bounces deleted
-- later (a subscriber erased, say) stays counted, as the campaign's own
-- n_sent does. Hours are UTC hours.

-- Opens and clicks by campaign and hour:
--   opens         first opens (new rows of opens), by the hour of first_at
--   opens_total   every open: a new row's n, and what a repeat adds to n, by
--                 the hour it happened
--   clicks        first clicks on a link (new rows of clicks), by first_at
--   clicks_total  every click, as opens_total
--   clickers      deliveries clicking for the first time on any link
-- Each (campaign, hour) is spread over four rows by delivery (slot =
-- delivery_id % 4): the opens of a campaign that just went out, arriving
-- together, update four rows in turn rather than queueing on one.
CREATE TABLE track_hours (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    hour         timestamptz NOT NULL,
    slot         smallint NOT NULL,
    opens        bigint NOT NULL DEFAULT 0,
    opens_total  bigint NOT NULL DEFAULT 0,
    clicks       bigint NOT NULL DEFAULT 0,
    clicks_total bigint NOT NULL DEFAULT 0,
    clickers     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, hour, slot)
);

-- Clicks by link (unique: deliveries that clicked it; total: every click),
-- spread over slots as above.
CREATE TABLE link_counts (
    link_id bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    slot    smallint NOT NULL,
    uniq    bigint NOT NULL DEFAULT 0,
    total   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, slot)
);

-- Bounces by campaign and class (complaints included, as class 'complaint').
CREATE TABLE campaign_bounce_counts (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    class       text NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, class)
);

CREATE FUNCTION track_count_opens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO track_hours AS t (campaign_id, hour, slot, opens, opens_total)
        SELECT campaign_id, date_trunc('hour', first_at, 'UTC'), delivery_id % 4, count(*), sum(n)
        FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (campaign_id, hour, slot) DO UPDATE
            SET opens = t.opens + excluded.opens, opens_total = t.opens_total + excluded.opens_total;
    ELSE
        INSERT INTO track_hours AS t (campaign_id, hour, slot, opens_total)
        SELECT n.campaign_id, date_trunc('hour', n.last_at, 'UTC'), n.delivery_id % 4, sum(n.n - o.n)
        FROM new_rows n JOIN old_rows o ON o.delivery_id = n.delivery_id GROUP BY 1, 2, 3 HAVING sum(n.n - o.n) <> 0
        ON CONFLICT (campaign_id, hour, slot) DO UPDATE SET opens_total = t.opens_total + excluded.opens_total;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER opens_counted_ins AFTER INSERT ON opens REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION track_count_opens();
CREATE TRIGGER opens_counted_upd AFTER UPDATE ON opens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION track_count_opens();

-- A delivery clicking two links at once (a mail gateway fetching every link
-- of a message does) must count as one clicker: a statement making a
-- delivery's first clicks holds a transaction lock on that delivery before it
-- looks whether the delivery had clicked before, so the second of two such
-- statements sees the first's row. A statement of more than 64 deliveries (a
-- backfill) takes no locks: it is not raced.
CREATE FUNCTION track_count_clicks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF (SELECT count(DISTINCT delivery_id) FROM new_rows) <= 64 THEN
            PERFORM pg_advisory_xact_lock(7262951, (delivery_id % 2147483647)::int)
            FROM (SELECT DISTINCT delivery_id FROM new_rows ORDER BY 1) d;
        END IF;
        INSERT INTO track_hours AS t (campaign_id, hour, slot, clicks, clicks_total, clickers)
        SELECT x.campaign_id, x.hour, x.slot, count(*), sum(x.n),
               count(DISTINCT x.delivery_id) FILTER (WHERE x.first)
        FROM (SELECT n.campaign_id, date_trunc('hour', n.first_at, 'UTC') AS hour, n.delivery_id % 4 AS slot,
                     n.n, n.delivery_id,
                     NOT EXISTS (SELECT 1 FROM clicks k WHERE k.delivery_id = n.delivery_id
                                 AND NOT EXISTS (SELECT 1 FROM new_rows m
                                                 WHERE m.delivery_id = k.delivery_id AND m.link_id = k.link_id)) AS first
              FROM new_rows n) x
        GROUP BY 1, 2, 3
        ON CONFLICT (campaign_id, hour, slot) DO UPDATE
            SET clicks = t.clicks + excluded.clicks, clicks_total = t.clicks_total + excluded.clicks_total,
                clickers = t.clickers + excluded.clickers;
        INSERT INTO link_counts AS l (link_id, slot, uniq, total)
        SELECT link_id, delivery_id % 4, count(*), sum(n) FROM new_rows GROUP BY 1, 2
        ON CONFLICT (link_id, slot) DO UPDATE SET uniq = l.uniq + excluded.uniq, total = l.total + excluded.total;
    ELSE
        INSERT INTO track_hours AS t (campaign_id, hour, slot, clicks_total)
        SELECT n.campaign_id, date_trunc('hour', n.last_at, 'UTC'), n.delivery_id % 4, sum(n.n - o.n)
        FROM new_rows n JOIN old_rows o ON o.link_id = n.link_id AND o.delivery_id = n.delivery_id
        GROUP BY 1, 2, 3 HAVING sum(n.n - o.n) <> 0
        ON CONFLICT (campaign_id, hour, slot) DO UPDATE SET clicks_total = t.clicks_total + excluded.clicks_total;
        INSERT INTO link_counts AS l (link_id, slot, total)
        SELECT n.link_id, n.delivery_id % 4, sum(n.n - o.n)
        FROM new_rows n JOIN old_rows o ON o.link_id = n.link_id AND o.delivery_id = n.delivery_id
        GROUP BY 1, 2 HAVING sum(n.n - o.n) <> 0
        ON CONFLICT (link_id, slot) DO UPDATE SET total = l.total + excluded.total;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER clicks_counted_ins AFTER INSERT ON clicks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION track_count_clicks();
CREATE TRIGGER clicks_counted_upd AFTER UPDATE ON clicks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION track_count_clicks();

-- Bounces by class, beside their daily counts (sql/016).
CREATE FUNCTION campaign_count_bounces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_bounce_counts AS b (campaign_id, class, n)
    SELECT campaign_id, class, count(*) FROM new_bounces WHERE campaign_id IS NOT NULL GROUP BY 1, 2
    ON CONFLICT (campaign_id, class) DO UPDATE SET n = b.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER bounces_by_class AFTER INSERT ON bounces REFERENCING NEW TABLE AS new_bounces
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_count_bounces();

-- What there is already. A repeat's hour was not kept: the repeats of a row
-- count in the hour of its last_at.
INSERT INTO track_hours AS t (campaign_id, hour, slot, opens, opens_total)
SELECT campaign_id, date_trunc('hour', first_at, 'UTC'), delivery_id % 4, count(*), count(*) FROM opens GROUP BY 1, 2, 3;
INSERT INTO track_hours AS t (campaign_id, hour, slot, opens_total)
SELECT campaign_id, date_trunc('hour', last_at, 'UTC'), delivery_id % 4, sum(n - 1) FROM opens WHERE n > 1 GROUP BY 1, 2, 3
ON CONFLICT (campaign_id, hour, slot) DO UPDATE SET opens_total = t.opens_total + excluded.opens_total;
INSERT INTO track_hours AS t (campaign_id, hour, slot, clicks, clicks_total)
SELECT campaign_id, date_trunc('hour', first_at, 'UTC'), delivery_id % 4, count(*), count(*) FROM clicks GROUP BY 1, 2, 3
ON CONFLICT (campaign_id, hour, slot) DO UPDATE
    SET clicks = t.clicks + excluded.clicks, clicks_total = t.clicks_total + excluded.clicks_total;
INSERT INTO track_hours AS t (campaign_id, hour, slot, clicks_total)
SELECT campaign_id, date_trunc('hour', last_at, 'UTC'), delivery_id % 4, sum(n - 1) FROM clicks WHERE n > 1 GROUP BY 1, 2, 3
ON CONFLICT (campaign_id, hour, slot) DO UPDATE SET clicks_total = t.clicks_total + excluded.clicks_total;
INSERT INTO track_hours AS t (campaign_id, hour, slot, clickers)
SELECT campaign_id, date_trunc('hour', first_at, 'UTC'), delivery_id % 4, count(*)
FROM (SELECT DISTINCT ON (delivery_id) campaign_id, delivery_id, first_at FROM clicks ORDER BY delivery_id, first_at) f
GROUP BY 1, 2, 3
ON CONFLICT (campaign_id, hour, slot) DO UPDATE SET clickers = t.clickers + excluded.clickers;
INSERT INTO link_counts (link_id, slot, uniq, total)
SELECT link_id, delivery_id % 4, count(*), sum(n) FROM clicks GROUP BY 1, 2;
INSERT INTO campaign_bounce_counts (campaign_id, class, n)
SELECT campaign_id, class, count(*) FROM bounces WHERE campaign_id IS NOT NULL GROUP BY 1, 2;

-- A campaign's recipients by domain, as last counted (store_campaign_domains):
-- counted again when older than a minute while the campaign goes on, kept
-- once it is over and nothing changed since it was counted (status: the
-- campaign's as the count saw it).
CREATE TABLE campaign_domains (
    campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    counted_at  timestamptz NOT NULL,
    status      text NOT NULL,
    body        json NOT NULL
);
