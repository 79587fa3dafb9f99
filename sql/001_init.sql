-- 001_init: subscribers, lists and subscriptions.

CREATE TABLE subscribers (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name        text NOT NULL DEFAULT '',
    attribs     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attribs) = 'object'),
    status      text NOT NULL DEFAULT 'enabled'
                CHECK (status IN ('enabled', 'disabled', 'blocklisted')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX subscribers_email_key ON subscribers (lower(email));
CREATE INDEX subscribers_status_idx ON subscribers (status);

CREATE TABLE lists (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    optin       text NOT NULL DEFAULT 'single' CHECK (optin IN ('single', 'double')),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscriptions (
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list_id       bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'unconfirmed'
                  CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber_id, list_id)
);
CREATE INDEX subscriptions_list_idx ON subscriptions (list_id, status);
