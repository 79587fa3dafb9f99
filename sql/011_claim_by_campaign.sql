-- 011_claim_by_campaign: due rows found campaign by campaign.
--
-- A claim walks the running campaigns (transactional ones first) and takes
-- each one's due rows in order from this index, stopping at the batch size:
-- it reads only the rows it claims, whatever the backlog. Ordered by time
-- alone, the planner chose to join every due row with its subscriber and
-- sort them all for each batch of a thousand.
CREATE INDEX deliveries_due_idx ON deliveries (campaign_id, next_attempt_at, id)
    WHERE state IN ('queued', 'deferred');
DROP INDEX IF EXISTS deliveries_ready_idx;
