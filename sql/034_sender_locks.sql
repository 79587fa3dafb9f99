-- 034_sender_locks: a sender that dies gives its deliveries back in seconds.
--
-- Each sender holds a session-level advisory lock named after it on its
-- claim connection, taken by its first claim or heartbeat (sender_lock).
-- PostgreSQL releases such a lock when the connection ends: the process was
-- killed, its host is gone, or the network between them is cut. Every
-- heartbeat (sender_beat, once a second per sender) looks at the other
-- senders listed in the senders table and tries each one's lock for the
-- length of its own transaction: whoever gets it knows that sender is gone,
-- gives back the deliveries it leased (sent by someone else at once, instead
-- of when the lease runs out) and takes it off the table. Holding the lock
-- meanwhile keeps a sender of the same name that is starting again from
-- claiming until the rows are given back. A live sender, however slow, keeps
-- its lock and its rows. A claim takes nothing while its sender does not hold
-- its lock (two senders may not share a name).

CREATE FUNCTION sender_lock_key(name text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtext('postino sender ' || name) $$;

-- sender_lock - does this session hold NAME's lock (taking it when it is free)?
CREATE FUNCTION sender_lock(name text) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    -- the session notes that it holds it: one lock, not one more per claim
    IF current_setting('postino.sender_lock', true) IS NOT DISTINCT FROM name THEN
        RETURN true;
    END IF;
    IF pg_try_advisory_lock(1886351215, sender_lock_key(name)) THEN
        PERFORM set_config('postino.sender_lock', name, false);
        RETURN true;
    END IF;
    RETURN false;
END $$;

-- sender_beat - say what sender ME (on HOST_, process PID_) does, and give
-- back what senders that are gone leased; the number of deliveries given back.
CREATE FUNCTION sender_beat(me text, host_ text, pid_ int, status_ text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    gone text;
    n bigint := 0;
    k bigint;
BEGIN
    IF NOT sender_lock(me) THEN
        RAISE EXCEPTION 'another running sender is named "%" (each sender needs a name of its own)', me;
    END IF;
    INSERT INTO senders (name, host, pid, status) VALUES (me, host_, pid_, status_)
        ON CONFLICT (name) DO UPDATE SET seen_at = now(), status = excluded.status,
            host = excluded.host, pid = excluded.pid;
    FOR gone IN SELECT name FROM senders WHERE name <> me ORDER BY name LOOP
        IF pg_try_advisory_xact_lock(1886351215, sender_lock_key(gone)) THEN
            UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
                WHERE lease_owner = gone AND state IN ('queued', 'deferred');
            GET DIAGNOSTICS k = ROW_COUNT;
            n := n + k;
            DELETE FROM senders WHERE name = gone;
        END IF;
    END LOOP;
    RETURN n;
END $$;
