-- 008_api: what the REST API's writes need: a template's default subject,
-- and imports sent over HTTP (each one a row, run at once or as a job).

ALTER TABLE templates ADD COLUMN subject text CHECK (subject IS NULL OR length(subject) BETWEEN 1 AND 998);

-- One import over HTTP. A small body is imported during its request and
-- lands here done; a large one is queued and run by a thread of the server
-- that received it. rejects holds the rejected rows as CSV (line,reason,row),
-- cut at [api] import_rejects_max bytes (rejects_truncated then says so).
CREATE TABLE import_jobs (
    id                bigserial PRIMARY KEY,
    state             text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    options           jsonb NOT NULL DEFAULT '{}',
    bytes             bigint NOT NULL DEFAULT 0,
    user_id           bigint REFERENCES users (id) ON DELETE SET NULL,
    summary           jsonb,
    error             text,
    rejects           bytea,
    rejects_truncated boolean NOT NULL DEFAULT false,
    server            text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz
);
CREATE INDEX import_jobs_state_idx ON import_jobs (state) WHERE state IN ('queued', 'running');
