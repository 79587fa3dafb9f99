-- 014_subscriber_search: finding a subscriber by a piece of its address or name.
--
-- The search (GET /api/v1/subscribers?q=, postino subscriber ls --search)
-- takes a fragment of at least three characters and looks for it anywhere in
-- the address or the name, in any letter case:
--   lower(email) LIKE '%frag%' OR lower(name) LIKE '%frag%'
-- A trigram index answers such a LIKE from the fragment's trigrams (a
-- BitmapOr of the two indexes), so a search reads the rows that match, not
-- the table. pg_trgm ships with PostgreSQL (Debian: postgresql-contrib) and is
-- a trusted extension: the database's owner may create it.
-- A subscriber's history (its deliveries and bounces) is read through
-- deliveries_subscriber_idx and bounces_subscriber_idx (003_sending), its
-- opens and clicks by delivery (opens' key, clicks_delivery_idx).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX subscribers_email_trgm_idx ON subscribers USING gin (lower(email) gin_trgm_ops);
CREATE INDEX subscribers_name_trgm_idx ON subscribers USING gin (lower(name) gin_trgm_ops);
