-- 006_tracking: open and click tracking (off unless a campaign asks), and
-- what the public /o/, /l/ and /c/ links record.

ALTER TABLE campaigns
    ADD COLUMN track_opens  boolean NOT NULL DEFAULT false,
    ADD COLUMN track_clicks boolean NOT NULL DEFAULT false;

-- The links of a campaign's HTML that click tracking rewrites, stored when
-- the campaign is prepared (once, not per message). A click URL names a row
-- here by id, and /l/ redirects only to a url stored here: no open redirect.
-- idx is the link's place in the HTML when it was first stored.
CREATE TABLE links (
    id          bigserial PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    idx         int NOT NULL CHECK (idx >= 0),
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, url)
);

-- Opens by delivery: a row is a unique open, n counts every one.
CREATE TABLE opens (
    delivery_id bigint PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    n           bigint NOT NULL DEFAULT 1,
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX opens_campaign_idx ON opens (campaign_id);

-- Clicks by link and delivery: a row is a unique click on that link, n counts every one.
CREATE TABLE clicks (
    link_id     bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    n           bigint NOT NULL DEFAULT 1,
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (link_id, delivery_id)
);
CREATE INDEX clicks_campaign_idx ON clicks (campaign_id, delivery_id);
CREATE INDEX clicks_delivery_idx ON clicks (delivery_id);
