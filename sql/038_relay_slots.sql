-- 038_relay_slots: a relay's connection cap held by all senders together.
--
-- A relay's max_conns is the submission server's limit (Postfix's
-- smtpd_client_connection_count_limit, a provider's cap per account): two
-- senders must not open twice as many. Connection slot I of relay R is a
-- session advisory lock (hashtext('postino relay ' || R), I), held on the
-- claim connection of the sender that uses it: at most max_conns exist, so
-- no more connections can be open at once, and a sender that dies lets its
-- slots go with its connection. Each sender asks for the slots it wants when
-- it needs more, and again at every heartbeat; it keeps at most its share
-- (max_conns divided among the senders that want the relay now, rounded up)
-- and gives back the rest, so a sender that waits gets a slot within a
-- heartbeat or two. A sender alone may hold all of them.

CREATE TABLE relay_slot_wants (
    relay   text NOT NULL,
    sender  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relay, sender)
);

-- relay_slots - sender ME wants WANT of relay NAME's MAX_CONNS connection
-- slots: take or give back slots (locks of this session) toward its share;
-- the number it holds now.
CREATE FUNCTION relay_slots(me text, name text, max_conns int, want int) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    k int := hashtext('postino relay ' || name);
    held int[];
    kept int[] := '{}';
    n int;
    target int;
    s int;
BEGIN
    IF want > 0 THEN
        INSERT INTO relay_slot_wants AS w (relay, sender) VALUES (name, me)
            ON CONFLICT (relay, sender) DO UPDATE SET at = now();
    ELSE
        DELETE FROM relay_slot_wants WHERE relay = name AND sender = me;
    END IF;
    SELECT count(*) INTO n FROM relay_slot_wants
        WHERE relay = name AND (sender = me OR at > now() - interval '5 seconds');
    target := least(want, max_conns, ceil(max_conns::numeric / greatest(n, 1))::int);
    SELECT coalesce(array_agg(l.objid::bigint::int ORDER BY l.objid), '{}') INTO held FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted AND l.objsubid = 2
          AND l.classid = (k::bigint & 4294967295)::oid;
    FOREACH s IN ARRAY held LOOP
        IF s >= max_conns OR cardinality(kept) >= target THEN
            PERFORM pg_advisory_unlock(k, s);
        ELSE
            kept := kept || s;
        END IF;
    END LOOP;
    s := 0;
    WHILE cardinality(kept) < target AND s < max_conns LOOP
        IF NOT s = ANY (kept) AND pg_try_advisory_lock(k, s) THEN
            kept := kept || s;
        END IF;
        s := s + 1;
    END LOOP;
    RETURN cardinality(kept);
END $$;
