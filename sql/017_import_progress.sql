-- 017_import_progress: how far a running import job is, for a progress bar.
-- The job's thread writes it about once a second over a connection of its
-- own (its import runs in one transaction on another): rows read, rows
-- rejected, bytes of the body read, and the phase (reading, merging, done).
ALTER TABLE import_jobs ADD COLUMN progress jsonb;
