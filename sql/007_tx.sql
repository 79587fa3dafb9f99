-- 007_tx: transactional sends on the campaign machinery.
--
-- A transactional message is a delivery of a hidden, long-lived campaign of
-- kind 'tx': one per (template, subject, From, Reply-To, relay), created on first use,
-- always 'running', never finished, not listed among campaigns. Its counters
-- move with its ledger like any campaign's. The delivery carries what is
-- particular to it: the template variables (data, merged over the subscriber's
-- attributes when it is rendered), the recipient's name for this message, and
-- the caller's idempotency key.

ALTER TABLE campaigns
    ADD COLUMN kind text NOT NULL DEFAULT 'campaign' CHECK (kind IN ('campaign', 'tx')),
    ADD COLUMN relay text CHECK (relay IS NULL OR kind = 'tx');   -- the relay a tx campaign must use; NULL: any
CREATE UNIQUE INDEX campaigns_tx_key
    ON campaigns (template_id, subject, from_name, from_addr, coalesce(reply_to, ''), coalesce(relay, ''))
    WHERE kind = 'tx';

ALTER TABLE deliveries
    ADD COLUMN data    jsonb CHECK (data IS NULL OR jsonb_typeof(data) = 'object'),
    ADD COLUMN to_name text,
    ADD COLUMN tx_key  text CHECK (tx_key IS NULL OR length(tx_key) BETWEEN 1 AND 300);

-- A campaign mails a subscriber once; a transactional campaign as often as it is asked.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_id_subscriber_id_key;
CREATE UNIQUE INDEX deliveries_campaign_subscriber_key ON deliveries (campaign_id, subscriber_id) WHERE data IS NULL;
CREATE UNIQUE INDEX deliveries_tx_key ON deliveries (tx_key) WHERE tx_key IS NOT NULL;
