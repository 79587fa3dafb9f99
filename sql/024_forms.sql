-- 024_forms: public signup forms (/s/LIST, POST /s) and welcome mail.
--
-- A list joined from a form says which template greets a new member
-- (sent through the transactional path when a subscription becomes
-- confirmed: at once on a single opt-in list, on confirmation on a double
-- one) and with what subject.
ALTER TABLE lists ADD COLUMN welcome_template_id bigint REFERENCES templates (id) ON DELETE SET NULL;
ALTER TABLE lists ADD COLUMN welcome_subject text NOT NULL DEFAULT 'Welcome to {{ list.name }}'
    CHECK (length(welcome_subject) BETWEEN 1 AND 998);

-- Fixed-window counters of form posts, by client address and by posted
-- address. KEY is 'ip:' or 'addr:' and a SHA-256 (hex) of the value, never
-- the value itself; rows older than a day are purged as posts arrive.
CREATE TABLE form_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL DEFAULT now(),
    hits         integer NOT NULL DEFAULT 0
);
CREATE INDEX form_limits_window_idx ON form_limits (window_start);

-- When a form last caused mail to an address (SHA-256 hex of its lower-cased
-- form): at most one per [forms] confirm_interval, whatever is posted.
CREATE TABLE form_mails (
    addr_hash text PRIMARY KEY,
    sent_at   timestamptz NOT NULL DEFAULT now()
);

-- Proof-of-work challenges already spent: each solves one post.
CREATE TABLE form_pow_spent (
    challenge text PRIMARY KEY,
    spent_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX form_pow_spent_at_idx ON form_pow_spent (spent_at);
