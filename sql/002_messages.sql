-- 002_messages: templates, campaigns and the lists they go to, DKIM keys, settings.

CREATE TABLE templates (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    html        text NOT NULL,
    text_body   text,                  -- NULL: derived from the HTML
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
    from_name   text NOT NULL DEFAULT '',
    from_addr   text NOT NULL,
    reply_to    text,
    template_id bigint REFERENCES templates (id) ON DELETE RESTRICT,
    html        text NOT NULL,
    text_body   text,                  -- NULL: derived from the HTML
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled')),
    send_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_status_idx ON campaigns (status, send_at);

CREATE TABLE campaign_lists (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id     bigint NOT NULL REFERENCES lists (id) ON DELETE RESTRICT,
    PRIMARY KEY (campaign_id, list_id)
);
CREATE INDEX campaign_lists_list_idx ON campaign_lists (list_id);

-- Private keys are secrets: no command or API prints them; listings select
-- only the public columns.
CREATE TABLE dkim_keys (
    id          bigserial PRIMARY KEY,
    domain      text NOT NULL,
    selector    text NOT NULL CHECK (selector ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    algorithm   text NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
    bits        int,
    private_key text NOT NULL,
    public_key  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain, selector)
);

-- Installation-wide values postino generates itself (the token HMAC key).
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
