-- 039_ledger_scale: the ledger's cost stays flat however many deliveries
-- wait or were sent long ago.
--
-- A gone sender's leases: found at the head of each campaign's due rows.
-- lease_owner has no index (sql/010: claims are HOT updates), so giving back
-- what a dead sender leased (sender_beat) or what a stopping one holds
-- (ledger_release_sql), and renewing what a live one holds (ledger_renew_sql,
-- every lease/3 seconds) read every due row: about a second per million queued
-- (bench/ledger.sh). A claim takes each campaign's first due rows that are
-- free, in the order of deliveries_due_idx, so the rows any sender holds lie
-- at the head of that order, before the rows never leased (lease_until NULL:
-- fresh ones, and those a record sent back as deferred, which now wait after
-- them). sender_leases walks that head and stops after the first 1000 rows
-- never leased; a row given back or released therefore keeps a lease_until
-- ('-infinity', claimable as an expired one) instead of NULL, and the head
-- stays unbroken. What a walk could still miss (a row ahead of it that an
-- open transaction inserts with an earlier time) waits for its lease to end,
-- as every row did before sender_beat gave rows back.

-- sender_leases - the ids of the due deliveries that sender WHO leases
CREATE FUNCTION sender_leases(who text) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    c bigint;
    r record;
    fresh int;
BEGIN
    FOR c IN SELECT id FROM campaigns WHERE n_queued + n_deferred > 0 LOOP
        fresh := 0;
        FOR r IN SELECT d.id, d.lease_owner, d.lease_until FROM deliveries d
                  WHERE d.campaign_id = c AND d.state IN ('queued', 'deferred') AND d.next_attempt_at <= now()
                  ORDER BY d.next_attempt_at, d.id LOOP
            IF r.lease_until IS NULL THEN
                fresh := fresh + 1;
                EXIT WHEN fresh >= 1000;
            ELSIF r.lease_owner = who THEN
                RETURN NEXT r.id;
            END IF;
        END LOOP;
    END LOOP;
END $$;

-- sender_give_back - free what sender WHO leases; how many rows
CREATE FUNCTION sender_give_back(who text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    UPDATE deliveries SET lease_owner = NULL, lease_until = '-infinity'
        WHERE id IN (SELECT sender_leases(who)) AND lease_owner = who AND state IN ('queued', 'deferred');
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN k;
END $$;

CREATE OR REPLACE FUNCTION sender_beat(me text, host_ text, pid_ int, status_ text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    gone text;
    n bigint := 0;
BEGIN
    IF NOT sender_lock(me) THEN
        RAISE EXCEPTION 'another running sender is named "%" (each sender needs a name of its own)', me;
    END IF;
    INSERT INTO senders (name, host, pid, status) VALUES (me, host_, pid_, status_)
        ON CONFLICT (name) DO UPDATE SET seen_at = now(), status = excluded.status,
            host = excluded.host, pid = excluded.pid;
    FOR gone IN SELECT name FROM senders WHERE name <> me ORDER BY name LOOP
        IF pg_try_advisory_xact_lock(1886351215, sender_lock_key(gone)) THEN
            n := n + sender_give_back(gone);
            DELETE FROM senders WHERE name = gone;
        END IF;
    END LOOP;
    RETURN n;
END $$;

-- sender_release - give back what sender ME leases and take it off the
-- senders table, only while this session holds ME's lock; how many rows
CREATE FUNCTION sender_release(me text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    IF NOT sender_lock(me) THEN
        RETURN 0;
    END IF;
    k := sender_give_back(me);
    DELETE FROM senders WHERE name = me;
    RETURN k;
END $$;

-- The archive: a finished or cancelled campaign's deliveries moved out of the
-- hot table (postino campaign archive). It inherits from deliveries, so that
-- whatever reads deliveries (a subscriber's history, the privacy export and
-- erasure, the reports, a late bounce's VERP token, Postfix's log by queue
-- id) finds archived rows too, while its CHECK lets the planner leave it out
-- of every statement about due rows (the claim, the record, the finish).
-- Rows of opens, clicks, delivery_mta and bounces name archived deliveries
-- as well: their foreign keys, which can only name the parent's rows, become
-- a trigger on both tables doing what the keys' ON DELETE did, except while
-- a campaign is being archived.
ALTER TABLE campaigns ADD COLUMN archived_at timestamptz;

CREATE TABLE deliveries_archive (
    CHECK (state IN ('sent', 'failed', 'skipped', 'cancelled'))
) INHERITS (deliveries);
ALTER TABLE deliveries_archive ADD PRIMARY KEY (id);
ALTER TABLE deliveries_archive ADD FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE;
ALTER TABLE deliveries_archive ADD FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE;
ALTER TABLE deliveries_archive ADD FOREIGN KEY (list_id) REFERENCES lists (id) ON DELETE SET NULL;
CREATE INDEX deliveries_archive_campaign_idx ON deliveries_archive (campaign_id, state, id);
CREATE INDEX deliveries_archive_subscriber_idx ON deliveries_archive (subscriber_id);
CREATE INDEX deliveries_archive_queue_id_idx ON deliveries_archive (queue_id) WHERE queue_id IS NOT NULL;

ALTER TABLE opens DROP CONSTRAINT opens_delivery_id_fkey;
ALTER TABLE clicks DROP CONSTRAINT clicks_delivery_id_fkey;
ALTER TABLE delivery_mta DROP CONSTRAINT delivery_mta_delivery_id_fkey;
ALTER TABLE bounces DROP CONSTRAINT bounces_delivery_id_fkey;

-- deliveries_gone - what a deleted delivery leaves behind goes with it (not
-- called while a campaign is archived: the WHEN below queues nothing then)
CREATE FUNCTION deliveries_gone() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opens WHERE delivery_id = OLD.id;
    DELETE FROM clicks WHERE delivery_id = OLD.id;
    DELETE FROM delivery_mta WHERE delivery_id = OLD.id;
    UPDATE bounces SET delivery_id = NULL WHERE delivery_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_gone AFTER DELETE ON deliveries FOR EACH ROW
    WHEN (current_setting('postino.archiving', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION deliveries_gone();
CREATE TRIGGER deliveries_gone AFTER DELETE ON deliveries_archive FOR EACH ROW
    WHEN (current_setting('postino.archiving', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION deliveries_gone();

-- campaign_archive - move campaign CID's deliveries into the archive (the
-- caller has checked that it is finished or cancelled); how many moved
CREATE FUNCTION campaign_archive(cid bigint) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    PERFORM set_config('postino.archiving', 'on', true);
    WITH m AS (DELETE FROM ONLY deliveries WHERE campaign_id = cid RETURNING *)
        INSERT INTO deliveries_archive SELECT * FROM m;
    GET DIAGNOSTICS k = ROW_COUNT;
    PERFORM set_config('postino.archiving', 'off', true);
    UPDATE campaigns SET archived_at = now(), updated_at = now() WHERE id = cid;
    RETURN k;
END $$;
