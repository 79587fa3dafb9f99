-- 016_report_counts: what the admin's dashboard and reports read without
-- scanning the ledger, and a failed delivery sent again.

-- Daily counts by campaign (0: belongs to no campaign), days in UTC. They move
-- with the writes that make them, so a dashboard reads thirty days of a
-- million-row ledger as a few hundred small rows:
--   sent          ledger_record_sql, with the campaign's counters
--   bounces       every bounce but complaints (the sender's own 5xx
--   complaints    rejections included): the trigger below, per statement
--   unsubscribes  store_subscription_unsub_campaign: a message's link
--   subscribers   new subscribers: noted by the statements that make them
--                 in subscriber_adds, folded in here by the dashboard's read
--                 (engine/store/daily.h says why)
-- Nothing refers to campaigns: the history outlives a deleted campaign.
CREATE TABLE daily_counts (
    day          date NOT NULL,
    campaign_id  bigint NOT NULL DEFAULT 0,
    sent         bigint NOT NULL DEFAULT 0,
    bounces      bigint NOT NULL DEFAULT 0,
    complaints   bigint NOT NULL DEFAULT 0,
    unsubscribes bigint NOT NULL DEFAULT 0,
    subscribers  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, campaign_id)
);
CREATE INDEX daily_counts_campaign_idx ON daily_counts (campaign_id, day) WHERE campaign_id > 0;

-- New subscribers as their writers note them, a row per statement: appending
-- waits for nobody. store_dashboard moves them into daily_counts (a DELETE ...
-- RETURNING, so each note is counted once whoever reads first).
CREATE TABLE subscriber_adds (
    day date NOT NULL,
    n   bigint NOT NULL CHECK (n > 0)
);

CREATE FUNCTION daily_count_bounces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_counts AS dc (day, campaign_id, bounces, complaints)
    SELECT (received_at AT TIME ZONE 'UTC')::date, coalesce(campaign_id, 0),
           count(*) FILTER (WHERE class <> 'complaint'), count(*) FILTER (WHERE class = 'complaint')
    FROM new_bounces GROUP BY 1, 2
    ON CONFLICT (day, campaign_id) DO UPDATE
        SET bounces = dc.bounces + excluded.bounces, complaints = dc.complaints + excluded.complaints;
    RETURN NULL;
END $$;
CREATE TRIGGER bounces_daily AFTER INSERT ON bounces REFERENCING NEW TABLE AS new_bounces
    FOR EACH STATEMENT EXECUTE FUNCTION daily_count_bounces();

-- What happened before this migration, from the tables (unsubscribes were not
-- attributed to campaigns before: they start at zero).
INSERT INTO daily_counts (day, campaign_id, sent)
SELECT (sent_at AT TIME ZONE 'UTC')::date, campaign_id, count(*) FROM deliveries
WHERE state = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2;
INSERT INTO daily_counts AS dc (day, campaign_id, bounces, complaints)
SELECT (received_at AT TIME ZONE 'UTC')::date, coalesce(campaign_id, 0),
       count(*) FILTER (WHERE class <> 'complaint'), count(*) FILTER (WHERE class = 'complaint')
FROM bounces GROUP BY 1, 2
ON CONFLICT (day, campaign_id) DO UPDATE
    SET bounces = dc.bounces + excluded.bounces, complaints = dc.complaints + excluded.complaints;
INSERT INTO daily_counts AS dc (day, campaign_id, subscribers)
SELECT (created_at AT TIME ZONE 'UTC')::date, 0, count(*) FROM subscribers GROUP BY 1
ON CONFLICT (day, campaign_id) DO UPDATE SET subscribers = dc.subscribers + excluded.subscribers;

-- A failed delivery sent again (store_campaign_retry) goes back to queued on
-- the same row; its age for [send] max_age counts from then.
ALTER TABLE deliveries ADD COLUMN requeued_at timestamptz;

-- Bounces listed newest first by class, or by campaign and class, read only
-- the page they show.
CREATE INDEX bounces_class_idx ON bounces (class, id);
CREATE INDEX bounces_campaign_class_idx ON bounces (campaign_id, class, id);
DROP INDEX bounces_campaign_idx;

-- A campaign's deliveries in one state, in id order: a page of the failures
-- of a million-recipient campaign reads that page (the report's list of failed
-- and deferred recipients). It does all the narrower index did.
CREATE INDEX deliveries_campaign_state_id_idx ON deliveries (campaign_id, state, id);
DROP INDEX deliveries_campaign_state_idx;
