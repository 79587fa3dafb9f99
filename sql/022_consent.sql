-- 022_consent: how and by whom every subscription changed, and what is left
-- of an address erased at its owner's request.
--
-- Every statement that inserts, updates or deletes subscriptions records one
-- consent row per subscription it changed (a status update that leaves the
-- status as it was records nothing). What the writer said about the change it
-- set first, transaction-locally (engine/store/consent.c):
--   postino.via        import | api | form | admin | cli | confirmation |
--                      unsubscribe | bounce | complaint | preferences | system
--   postino.actor      'user:EMAIL', 'token:ID', 'cli:LOGIN', 'subscriber', ''
--   postino.ip         the client's address, '' when none
--   postino.ua         its User-Agent, '' when none
--   postino.form_hash  hex SHA-256 of the form's text, '' when none
-- A change made without them is recorded with via 'unknown'.
--
-- Nothing was recorded before this migration: subscriptions made earlier have
-- no consent rows (their created_at is all that is known of them).
--
-- A subscriber's consent rows go with the subscriber; a list's name is copied
-- into its rows, so they still say which list once it is deleted (its
-- subscriptions deleted with it are recorded, to_status NULL).
CREATE TABLE consent (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list_id       bigint NOT NULL,          -- no foreign key: the record outlives the list
    list_name     text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now(),
    from_status   text,                     -- NULL: no subscription before
    to_status     text,                     -- NULL: the subscription was deleted
    via           text NOT NULL CHECK (via IN ('import', 'api', 'form', 'admin', 'cli', 'confirmation',
                                               'unsubscribe', 'bounce', 'complaint', 'preferences', 'system',
                                               'unknown')),
    actor         text NOT NULL DEFAULT '' CHECK (length(actor) <= 300),
    ip            text NOT NULL DEFAULT '' CHECK (length(ip) <= 64),
    user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500),
    form_hash     text NOT NULL DEFAULT '' CHECK (length(form_hash) <= 128)
);
CREATE INDEX consent_subscriber_idx ON consent (subscriber_id, id);
CREATE INDEX consent_unnamed_idx ON consent (list_id) WHERE list_name = '';

-- One statement's changes to subscriptions, as consent rows. Subscriptions
-- deleted with their subscriber (a subscriber removed or erased) leave none.
CREATE FUNCTION consent_note() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_via   text := coalesce(nullif(current_setting('postino.via', true), ''), 'unknown');
    v_actor text := left(coalesce(current_setting('postino.actor', true), ''), 300);
    v_ip    text := left(coalesce(current_setting('postino.ip', true), ''), 64);
    v_ua    text := left(coalesce(current_setting('postino.ua', true), ''), 500);
    v_hash  text := left(coalesce(current_setting('postino.form_hash', true), ''), 128);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO consent (subscriber_id, list_id, list_name, from_status, to_status, via, actor, ip, user_agent,
                             form_hash)
        SELECT t.subscriber_id, t.list_id, coalesce(l.name, ''), NULL, t.status, v_via, v_actor, v_ip, v_ua, v_hash
        FROM new_rows t LEFT JOIN lists l ON l.id = t.list_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO consent (subscriber_id, list_id, list_name, from_status, to_status, via, actor, ip, user_agent,
                             form_hash)
        SELECT t.subscriber_id, t.list_id, coalesce(l.name, ''), t.status, NULL, v_via, v_actor, v_ip, v_ua, v_hash
        FROM old_rows t LEFT JOIN lists l ON l.id = t.list_id
        WHERE EXISTS (SELECT 1 FROM subscribers s WHERE s.id = t.subscriber_id);
    ELSE
        INSERT INTO consent (subscriber_id, list_id, list_name, from_status, to_status, via, actor, ip, user_agent,
                             form_hash)
        SELECT n.subscriber_id, n.list_id, coalesce(l.name, ''), o.status, n.status, v_via, v_actor, v_ip, v_ua, v_hash
        FROM new_rows n JOIN old_rows o ON o.subscriber_id = n.subscriber_id AND o.list_id = n.list_id
        LEFT JOIN lists l ON l.id = n.list_id
        WHERE o.status IS DISTINCT FROM n.status;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER subscriptions_consent_ins AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consent_note();
CREATE TRIGGER subscriptions_consent_upd AFTER UPDATE ON subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consent_note();
CREATE TRIGGER subscriptions_consent_del AFTER DELETE ON subscriptions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION consent_note();

-- A list deleted: the rows of its subscriptions, deleted with it after it was
-- gone, get its name when the transaction commits (a deferred trigger: the
-- foreign key's cascade records them after the list's own triggers ran).
CREATE FUNCTION consent_list_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE consent SET list_name = OLD.name WHERE list_id = OLD.id AND list_name = '';
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lists_consent_name AFTER DELETE ON lists DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION consent_list_name();

-- Fired under session_replication_role replica too (the importer's fast path).
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_consent_ins;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_consent_upd;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_consent_del;
ALTER TABLE lists ENABLE ALWAYS TRIGGER lists_consent_name;

-- bounce_apply (sql/004) again: its policy's unsubscribes are recorded as
-- via bounce or complaint, actor 'bounce:ID' (the bounce row), whatever the
-- writer of the bounce had set; the writer's settings are back afterwards.
CREATE OR REPLACE FUNCTION bounce_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    p bounce_policy;
    act text := 'none';
    saved text[];
BEGIN
    IF NEW.subscriber_id IS NOT NULL THEN
        SELECT * INTO p FROM bounce_policy WHERE class = NEW.class;
        IF FOUND AND p.action <> 'none'
           AND bounce_count(NEW.subscriber_id, NEW.class, p.consecutive) >= p.threshold THEN
            act := p.action;
            IF act = 'disable' THEN
                UPDATE subscribers SET status = 'disabled', updated_at = now()
                WHERE id = NEW.subscriber_id AND status = 'enabled';
            ELSIF act = 'blocklist' THEN
                UPDATE subscribers SET status = 'blocklisted', updated_at = now()
                WHERE id = NEW.subscriber_id AND status <> 'blocklisted';
            END IF;
            IF act IN ('unsubscribe', 'blocklist') THEN
                saved := ARRAY[current_setting('postino.via', true), current_setting('postino.actor', true),
                               current_setting('postino.ip', true), current_setting('postino.ua', true),
                               current_setting('postino.form_hash', true)];
                PERFORM set_config('postino.via', CASE WHEN NEW.class = 'complaint' THEN 'complaint' ELSE 'bounce' END,
                                   true),
                        set_config('postino.actor', 'bounce:' || NEW.id, true),
                        set_config('postino.ip', '', true), set_config('postino.ua', '', true),
                        set_config('postino.form_hash', '', true);
                UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()
                WHERE subscriber_id = NEW.subscriber_id AND status <> 'unsubscribed';
                PERFORM set_config('postino.via', coalesce(saved[1], ''), true),
                        set_config('postino.actor', coalesce(saved[2], ''), true),
                        set_config('postino.ip', coalesce(saved[3], ''), true),
                        set_config('postino.ua', coalesce(saved[4], ''), true),
                        set_config('postino.form_hash', coalesce(saved[5], ''), true);
            END IF;
        END IF;
    END IF;
    UPDATE bounces SET action = act WHERE id = NEW.id;
    IF act = 'delete' THEN
        DELETE FROM subscribers WHERE id = NEW.subscriber_id;
    END IF;
    RETURN NULL;
END $$;

-- Addresses erased at their owner's request that must stay suppressed (they
-- were blocklisted, had complained, or had left every list): only a salted
-- SHA-256 of the lower-cased address is kept. The salt is the generated
-- secret erase_salt of the settings table (engine/store/settings.c), made on
-- the first erasure; with no salt there is no suppression either.
CREATE TABLE suppressions (
    hash       text PRIMARY KEY,
    reason     text NOT NULL CHECK (reason IN ('blocklisted', 'complained', 'unsubscribed')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION suppression_hash(addr text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(s.value || ':' || lower(addr), 'UTF8')), 'hex')
    FROM settings s WHERE s.key = 'erase_salt'
$$;

-- Is ADDR suppressed?
CREATE FUNCTION suppressed(addr text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM suppressions x WHERE x.hash = suppression_hash(addr))
$$;

-- Does the text T mention the address ADDR (any letter case), as a whole
-- address rather than the tail of a longer one? Export and erasure find the
-- address this way in texts kept whole (the rejects of imports, unmatched
-- bounces).
CREATE FUNCTION text_mentions(t text, addr text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT t IS NOT NULL AND position(lower(addr) in lower(t)) > 0
       AND lower(t) ~ ('(^|[^[:alnum:]._%+=-])' || regexp_replace(lower(addr), '([^[:alnum:]])', '\\\1', 'g')
                       || '($|[^[:alnum:].-])')
$$;
