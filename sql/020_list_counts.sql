-- 020_list_counts: each list's subscriptions by status, kept by the writes,
-- so that listing lists reads a few rows per list whatever the tables hold.
--
-- Every statement that inserts, updates or deletes subscriptions notes what
-- it changed as rows of list_count_deltas (one per list and status it
-- moved, from its transition tables). Appending waits for nobody: two
-- imports into one list at once, or many single adds, never queue on a
-- counter row and cannot deadlock on one. The readers (engine/store/lists.c)
-- fold the notes into list_counts (one row per list and status) as they
-- read, one folder at a time, and add whatever notes remain to what they
-- read there.
--
-- The triggers are enabled ALWAYS: they fire under session_replication_role
-- replica too, which the importer sets to skip foreign key checks.
-- Nothing refers to lists by a foreign key: a list's rows go with it through
-- lists_count_forget, and a note for a list deleted meanwhile is dropped by
-- the fold.
CREATE TABLE list_counts (
    list_id bigint NOT NULL,
    status  text NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (list_id, status)
);

CREATE TABLE list_count_deltas (
    list_id bigint NOT NULL,
    status  text NOT NULL,
    n       bigint NOT NULL
);

-- What one statement on subscriptions changed, by list and status; a list
-- deleted by this very statement (its subscriptions going by cascade) gets
-- no note.
CREATE FUNCTION list_counts_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO list_count_deltas (list_id, status, n)
        SELECT t.list_id, t.status, count(*) FROM new_rows t GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO list_count_deltas (list_id, status, n)
        SELECT g.list_id, g.status, g.n
        FROM (SELECT t.list_id, t.status, -count(*) AS n FROM old_rows t GROUP BY 1, 2) g
        WHERE EXISTS (SELECT 1 FROM lists l WHERE l.id = g.list_id);
    ELSE
        INSERT INTO list_count_deltas (list_id, status, n)
        SELECT g.list_id, g.status, sum(g.n)
        FROM (SELECT t.list_id, t.status, count(*) AS n FROM new_rows t GROUP BY 1, 2
              UNION ALL
              SELECT t.list_id, t.status, -count(*) FROM old_rows t GROUP BY 1, 2) g
        GROUP BY 1, 2 HAVING sum(g.n) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER subscriptions_count_ins AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_note();
CREATE TRIGGER subscriptions_count_upd AFTER UPDATE ON subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_note();
CREATE TRIGGER subscriptions_count_del AFTER DELETE ON subscriptions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_note();

-- TRUNCATE subscriptions (or of subscribers or lists, cascading to it) empties every count.
CREATE FUNCTION list_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_counts;
    DELETE FROM list_count_deltas;
    RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_count_truncate AFTER TRUNCATE ON subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_clear();

-- A deleted list's counts go with it.
CREATE FUNCTION lists_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_counts c USING old_lists o WHERE c.list_id = o.id;
    DELETE FROM list_count_deltas d USING old_lists o WHERE d.list_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER lists_count_forget AFTER DELETE ON lists REFERENCING OLD TABLE AS old_lists
    FOR EACH STATEMENT EXECUTE FUNCTION lists_count_forget();

ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_count_ins;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_count_upd;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_count_del;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_count_truncate;
ALTER TABLE lists ENABLE ALWAYS TRIGGER lists_count_forget;

-- What is there already. The triggers above hold a lock that keeps writers
-- of subscriptions out until this migration commits, so nothing is missed
-- or counted twice.
INSERT INTO list_counts (list_id, status, n)
SELECT list_id, status, count(*) FROM subscriptions GROUP BY 1, 2;
