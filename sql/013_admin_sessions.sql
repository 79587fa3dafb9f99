-- 013_admin_sessions: the web admin's logins. A session is a random token in
-- an HttpOnly cookie; only its SHA-256 (hex) is kept. It ends at expires_at,
-- on logout, and at once when its user's password changes or the user is
-- disabled (the trigger below: every path that changes a user, the CLI's
-- included, revokes alike).
CREATE TABLE admin_sessions (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    address      text NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires_at);

CREATE FUNCTION admin_sessions_revoke() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash OR (OLD.active AND NOT NEW.active) THEN
        DELETE FROM admin_sessions WHERE user_id = NEW.id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_revoke_sessions AFTER UPDATE OF password_hash, active ON users
    FOR EACH ROW EXECUTE FUNCTION admin_sessions_revoke();
