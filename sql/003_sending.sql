-- 003_sending: relays, the delivery ledger, campaign counters and bounces.

-- The SMTP submission servers postino sends through, with their limits.
-- password is a secret: listings select everything but it.
CREATE TABLE relays (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    host         text NOT NULL,
    port         int NOT NULL DEFAULT 587 CHECK (port BETWEEN 1 AND 65535),
    tls          text NOT NULL DEFAULT 'starttls' CHECK (tls IN ('starttls', 'tls', 'none', 'auto')),
    tls_verify   boolean NOT NULL DEFAULT true,
    ca_file      text,
    username     text,
    password     text,
    max_conns    int NOT NULL DEFAULT 4 CHECK (max_conns BETWEEN 1 AND 1000),
    max_per_conn int NOT NULL DEFAULT 100 CHECK (max_per_conn BETWEEN 1 AND 100000),
    rate         double precision CHECK (rate IS NULL OR rate > 0),        -- messages per second
    quota        int CHECK (quota IS NULL OR quota > 0),                   -- recipients per period
    quota_period interval CHECK (quota_period IS NULL OR quota_period > '0'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE campaigns
    ADD COLUMN started_at  timestamptz,
    ADD COLUMN finished_at timestamptz,
    ADD COLUMN n_total     bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_queued    bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_sent      bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_deferred  bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_failed    bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_skipped   bigint NOT NULL DEFAULT 0,
    ADD COLUMN n_cancelled bigint NOT NULL DEFAULT 0;

-- One row per recipient of a started campaign. state moves
-- queued -> sent | deferred | failed | skipped | cancelled, deferred -> sent | deferred | failed.
-- A sender holds rows it works on through lease_owner/lease_until; an expired
-- lease makes the row claimable again. The campaign's n_* counters move in the
-- same transaction as every state change, so they always equal the ledger.
CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id   bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list_id         bigint REFERENCES lists (id) ON DELETE SET NULL,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sent', 'deferred', 'failed', 'skipped', 'cancelled')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner     text,
    lease_until     timestamptz,
    relay           text,
    smtp_code       int,
    smtp_enhanced   text,
    smtp_reply      text,
    queue_id        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX deliveries_ready_idx ON deliveries (next_attempt_at, id) WHERE state IN ('queued', 'deferred');
CREATE INDEX deliveries_campaign_state_idx ON deliveries (campaign_id, state);
CREATE INDEX deliveries_subscriber_idx ON deliveries (subscriber_id);
CREATE INDEX deliveries_sent_idx ON deliveries (campaign_id, sent_at) WHERE state = 'sent';
CREATE INDEX deliveries_lease_idx ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;

-- Each running sender says what it is doing (and why it waits) here.
CREATE TABLE senders (
    name        text PRIMARY KEY,
    host        text NOT NULL,
    pid         int NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL DEFAULT ''
);

-- What came back: synchronous rejections now, DSNs and complaints later.
CREATE TABLE bounces (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint REFERENCES subscribers (id) ON DELETE SET NULL,
    campaign_id   bigint REFERENCES campaigns (id) ON DELETE SET NULL,
    delivery_id   bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    email         text NOT NULL,
    class         text NOT NULL CHECK (class IN ('hard', 'soft', 'complaint', 'policy', 'unknown')),
    source        text NOT NULL CHECK (source IN ('smtp', 'dsn', 'arf', 'api')),
    status        text,            -- enhanced status code, e.g. 5.1.1
    diagnostic    text,
    remote_mta    text,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounces_campaign_idx ON bounces (campaign_id, class);
CREATE INDEX bounces_subscriber_idx ON bounces (subscriber_id);
