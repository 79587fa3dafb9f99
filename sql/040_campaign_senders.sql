-- 040_campaign_senders: what each sender did for each campaign.
--
-- Any number of senders on any number of hosts share a campaign; its stats
-- say how much each one sent. The record statement (engine/store/ledger.c)
-- adds its batch's results to its own row here: one row per campaign and
-- sender, so two senders recording at once never wait for each other. The
-- rows stay when the campaign is archived and go when it is removed.
CREATE TABLE campaign_senders (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    sender      text NOT NULL,
    sent        bigint NOT NULL DEFAULT 0,
    deferred    bigint NOT NULL DEFAULT 0,   -- deferrals, every one
    failed      bigint NOT NULL DEFAULT 0,
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, sender)
);
