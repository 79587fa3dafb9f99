-- 012_relay_plain_auth: a relay's password is never sent without TLS, unless
-- the relay is on this machine and plain-text AUTH was allowed for it.
ALTER TABLE relays ADD COLUMN allow_plain_auth boolean NOT NULL DEFAULT false;
