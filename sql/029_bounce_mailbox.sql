-- 029_bounce_mailbox: the key of each message read from a bounce mailbox
-- (postino bounce fetch), so that a message read again (a crash after its row
-- was committed and before the server removed it) is recognised as recorded.
--
-- raw_key is the SHA-256 of the message's bytes as the server sent them, in
-- hex (for a message too large to be read whole: of its head, with ":" and its
-- size). It is set in the same transaction as the row; a second row with the
-- same key cannot be made.
ALTER TABLE bounces ADD COLUMN raw_key text CHECK (length(raw_key) <= 100);
ALTER TABLE bounces_unmatched ADD COLUMN raw_key text CHECK (length(raw_key) <= 100);
CREATE UNIQUE INDEX bounces_raw_key ON bounces (raw_key) WHERE raw_key IS NOT NULL;
CREATE UNIQUE INDEX bounces_unmatched_raw_key ON bounces_unmatched (raw_key) WHERE raw_key IS NOT NULL;
