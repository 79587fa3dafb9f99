-- 033_providers: mailbox providers as data, the provider of each delivery,
-- and what each provider did with the mail (engine/store/providers.c).
--
-- A provider is a named group of recipient domains and receiving hosts.
-- A delivery's provider is found, in this order:
--   1. its recipient domain among provider_domains: exactly ('gmail.com'),
--      or by a pattern 'NAME.*' standing for NAME under any suffix
--      ('hotmail.*': hotmail.com, hotmail.co.uk; no public-suffix list);
--      the exact pattern, then the longest, wins;
--   2. the receiving host Postfix logged (delivery_mta.host) among
--      provider_mx: globs where '*' stands for any characters
--      ('*.google.com', 'mx*.t-online.de'); the longest pattern wins;
--   3. the domain learned from an earlier delivery: once a host of a
--      provider took mail for a domain no domain pattern names (a Google
--      Workspace domain, say), provider_learned remembers it, so that the
--      provider of the next delivery to that domain is known before it is
--      submitted (provider_of).
-- Patterns are lower case (engine/mail/provider.c checks what is entered).
CREATE TABLE providers (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$' AND name <> 'other'),
    label       text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provider_domains (
    pattern     text PRIMARY KEY CHECK (pattern ~ '^[a-z0-9.-]+(\.\*)?$'),
    provider_id int NOT NULL REFERENCES providers (id) ON DELETE CASCADE
);
CREATE INDEX provider_domains_provider_idx ON provider_domains (provider_id);

CREATE TABLE provider_mx (
    pattern     text PRIMARY KEY CHECK (pattern ~ '^[a-z0-9.*-]+$'),
    provider_id int NOT NULL REFERENCES providers (id) ON DELETE CASCADE
);
CREATE INDEX provider_mx_provider_idx ON provider_mx (provider_id);

CREATE TABLE provider_learned (
    domain      text PRIMARY KEY,
    provider_id int NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    mx_host     text NOT NULL,              -- the host seen taking mail for it
    learned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_learned_provider_idx ON provider_learned (provider_id);

-- What each provider did, counted as the log is read (for /metrics: a few
-- rows whatever the ledger's size). provider_id 0 is every delivery of no
-- provider ("other"), and so is a provider's row once it is removed.
-- Events, never taken back: delivered, bounced and expired count deliveries
-- reaching that state, deferrals every deferral, complaints every complaint.
CREATE TABLE provider_counts (
    provider_id int PRIMARY KEY,
    delivered   bigint NOT NULL DEFAULT 0,
    bounced     bigint NOT NULL DEFAULT 0,
    expired     bigint NOT NULL DEFAULT 0,
    deferrals   bigint NOT NULL DEFAULT 0,
    complaints  bigint NOT NULL DEFAULT 0
);

-- The defaults. Receiving hosts are those the providers publish as MX for
-- their own domains; where they were not certain, only domains are given.
WITH p (name, label, domains, mx) AS (VALUES
    ('google', 'Google', ARRAY['gmail.com', 'googlemail.com'], ARRAY['*.google.com', '*.googlemail.com']),
    ('microsoft', 'Microsoft', ARRAY['outlook.com', 'hotmail.*', 'live.*', 'msn.com'],
        ARRAY['*.protection.outlook.com', '*.olc.protection.outlook.com']),
    ('yahoo', 'Yahoo/AOL', ARRAY['yahoo.*', 'ymail.com', 'rocketmail.com', 'aol.*'], ARRAY['*.yahoodns.net']),
    ('apple', 'Apple iCloud', ARRAY['icloud.com', 'me.com', 'mac.com'], ARRAY['*.mail.icloud.com']),
    ('gmx', 'GMX/WEB.DE (1&1 Mail & Media)', ARRAY['gmx.*', 'web.de', 'mail.com'],
        ARRAY['*.gmx.net', '*.gmx.com', '*.web.de', '*.mail.com']),
    ('orange', 'Orange', ARRAY['orange.fr', 'wanadoo.fr'], ARRAY['smtp-in.orange.fr']),
    ('libero', 'Libero/Virgilio (Italiaonline)', ARRAY['libero.it', 'virgilio.it', 'inwind.it', 'iol.it', 'blu.it'],
        ARRAY[]::text[]),
    ('free', 'Free', ARRAY['free.fr'], ARRAY['mx*.free.fr']),
    ('seznam', 'Seznam', ARRAY['seznam.cz', 'email.cz', 'post.cz'], ARRAY['mx*.seznam.cz']),
    ('yandex', 'Yandex', ARRAY['yandex.ru', 'yandex.com', 'ya.ru'], ARRAY['mx.yandex.ru', 'mx.yandex.net']),
    ('mailru', 'Mail.ru', ARRAY['mail.ru', 'bk.ru', 'inbox.ru', 'list.ru'], ARRAY['mxs.mail.ru']),
    ('t-online', 'T-Online', ARRAY['t-online.de', 'magenta.de'], ARRAY['mx*.t-online.de']),
    ('ziggo', 'Ziggo', ARRAY['ziggo.nl', 'upcmail.nl', 'chello.nl', 'home.nl'], ARRAY[]::text[]),
    ('kpn', 'KPN', ARRAY['kpnmail.nl', 'planet.nl', 'hetnet.nl'], ARRAY[]::text[])),
ins AS (INSERT INTO providers (name, label) SELECT name, label FROM p RETURNING id, name),
dom AS (INSERT INTO provider_domains (pattern, provider_id)
    SELECT unnest(p.domains), ins.id FROM p JOIN ins USING (name))
INSERT INTO provider_mx (pattern, provider_id) SELECT unnest(p.mx), ins.id FROM p JOIN ins USING (name);

-- provider_domain_of - the domain of an address, lower case, without a final dot
CREATE FUNCTION provider_domain_of(email text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT rtrim(lower(split_part(email, '@', -1)), '.')
$$;

-- provider_host_name - the host name of a receiving host as delivery_mta keeps
-- it ("mx.example.org[192.0.2.1]:25"), lower case, without a final dot; NULL
-- for none or a bare address ("[192.0.2.1]:25")
CREATE FUNCTION provider_host_name(host text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(rtrim(lower(split_part(host, '[', 1)), '.'), '')
$$;

-- These are PL/pgSQL, whose statements are planned once per connection: the
-- log's reader calls them for every event.

-- provider_by_domain - the domain pattern naming DOM, and its provider
CREATE FUNCTION provider_by_domain(dom text, OUT provider_id int, OUT pattern text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    labels text[] := string_to_array(dom, '.');
    keys text[] := ARRAY[dom];
BEGIN
    FOR k IN 1 .. coalesce(cardinality(labels), 0) - 1 LOOP
        keys := keys || (array_to_string(labels[1:k], '.') || '.*');
    END LOOP;
    SELECT d.provider_id, d.pattern INTO provider_id, pattern FROM provider_domains d
    WHERE d.pattern = ANY (keys) ORDER BY d.pattern = dom DESC, length(d.pattern) DESC LIMIT 1;
END $$;

-- provider_by_mx - the receiving-host pattern HOST (a host name) matches, and its provider
CREATE FUNCTION provider_by_mx(host text, OUT provider_id int, OUT pattern text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT m.provider_id, m.pattern INTO provider_id, pattern FROM provider_mx m
    WHERE host LIKE replace(m.pattern, '*', '%') ORDER BY length(m.pattern) DESC, m.pattern LIMIT 1;
END $$;

-- provider_match - the provider of mail to DOM taken by HOST (a host name, or
-- NULL when none is known), how it was found ('domain', 'mx' or 'learned')
-- and by what (the pattern, or the host the domain was learned from)
CREATE FUNCTION provider_match(dom text, host text, OUT provider_id int, OUT how text, OUT pattern text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT b.provider_id, 'domain', b.pattern INTO provider_id, how, pattern FROM provider_by_domain(dom) b;
    IF provider_id IS NULL AND host IS NOT NULL THEN
        SELECT b.provider_id, 'mx', b.pattern INTO provider_id, how, pattern FROM provider_by_mx(host) b;
    END IF;
    IF provider_id IS NULL THEN
        SELECT l.provider_id, 'learned', l.mx_host INTO provider_id, how, pattern
        FROM provider_learned l WHERE l.domain = dom;
    END IF;
    IF provider_id IS NULL THEN
        how := NULL;
        pattern := NULL;
    END IF;
END $$;

-- provider_of - the provider of mail to DOM before it is sent (by its
-- domain, else as learned), or NULL
CREATE FUNCTION provider_of(dom text) RETURNS int
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p int;
BEGIN
    SELECT b.provider_id INTO p FROM provider_by_domain(dom) b;
    IF p IS NULL THEN
        SELECT l.provider_id INTO p FROM provider_learned l WHERE l.domain = dom;
    END IF;
    RETURN p;
END $$;

-- Each delivery Postfix's log told of carries its campaign, its provider and,
-- once delivered, how long it took from its submission: the per-provider
-- counts of a campaign and over time read only delivery_mta, by index.
ALTER TABLE delivery_mta
    ADD COLUMN campaign_id bigint,
    ADD COLUMN provider_id int REFERENCES providers (id) ON DELETE SET NULL,
    ADD COLUMN delivered_s real;     -- seconds from submission (deliveries.sent_at) to delivered
UPDATE delivery_mta m SET campaign_id = d.campaign_id,
    provider_id = (provider_match(provider_domain_of(s.email), provider_host_name(m.host))).provider_id,
    delivered_s = CASE WHEN m.state = 'delivered' THEN greatest(extract(epoch FROM m.at - d.sent_at), 0) END
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = m.delivery_id;
CREATE INDEX delivery_mta_campaign_idx ON delivery_mta (campaign_id, provider_id, state) INCLUDE (deferrals, delivered_s);
CREATE INDEX delivery_mta_at_idx ON delivery_mta (at) INCLUDE (provider_id, state, deferrals, delivered_s);
INSERT INTO provider_counts (provider_id, delivered, bounced, expired, deferrals)
SELECT coalesce(provider_id, 0), count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'bounced'),
       count(*) FILTER (WHERE state = 'expired'), sum(deferrals)
FROM delivery_mta GROUP BY 1;

-- delivery_mta_provider - a new row, or a row whose receiving host or state
-- changes: its campaign, its provider (from the recipient's domain and the
-- host), the time to delivery; a domain a provider's host took is learned.
CREATE FUNCTION delivery_mta_provider() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    dom text;
    sent timestamptz;
    h text := provider_host_name(NEW.host);
    pm record;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.host IS NOT DISTINCT FROM OLD.host AND NEW.state = OLD.state THEN
        RETURN NEW;
    END IF;
    SELECT d.campaign_id, d.sent_at, provider_domain_of(s.email) INTO NEW.campaign_id, sent, dom
    FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = NEW.delivery_id;
    IF TG_OP = 'INSERT' OR NEW.host IS DISTINCT FROM OLD.host THEN
        pm := provider_match(dom, h);
        IF pm.provider_id IS NOT NULL OR h IS NOT NULL THEN
            NEW.provider_id := pm.provider_id;
        END IF;
        IF pm.how = 'mx' THEN
            INSERT INTO provider_learned AS l (domain, provider_id, mx_host) VALUES (dom, pm.provider_id, h)
            ON CONFLICT (domain) DO UPDATE SET provider_id = excluded.provider_id, mx_host = excluded.mx_host,
                learned_at = now()
            WHERE l.provider_id <> excluded.provider_id;
        END IF;
    END IF;
    IF NEW.state = 'delivered' THEN
        NEW.delivered_s := greatest(extract(epoch FROM NEW.at - sent), 0);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER delivery_mta_provider BEFORE INSERT OR UPDATE ON delivery_mta
    FOR EACH ROW EXECUTE FUNCTION delivery_mta_provider();

-- provider_counts_add - what a row of delivery_mta added (after the write, so
-- that an insert that did nothing on a conflict counts nothing)
CREATE FUNCTION provider_counts_add() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fresh boolean := TG_OP = 'INSERT' OR NEW.state <> OLD.state;
    more int := NEW.deferrals - CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.deferrals END;
BEGIN
    IF NOT fresh AND more = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO provider_counts AS c (provider_id, delivered, bounced, expired, deferrals)
    VALUES (coalesce(NEW.provider_id, 0), (fresh AND NEW.state = 'delivered')::int, (fresh AND NEW.state = 'bounced')::int,
            (fresh AND NEW.state = 'expired')::int, more)
    ON CONFLICT (provider_id) DO UPDATE SET delivered = c.delivered + excluded.delivered,
        bounced = c.bounced + excluded.bounced, expired = c.expired + excluded.expired,
        deferrals = c.deferrals + excluded.deferrals;
    RETURN NULL;
END $$;
CREATE TRIGGER provider_counts_add AFTER INSERT OR UPDATE ON delivery_mta
    FOR EACH ROW EXECUTE FUNCTION provider_counts_add();

-- provider_of_bounce - the provider of a bounce: its delivery's, as the log
-- found it (delivery_mta; none: "other"), else by the bounced address
CREATE FUNCTION provider_of_bounce(delivery bigint, email text) RETURNS int
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m delivery_mta;
BEGIN
    SELECT * INTO m FROM delivery_mta x WHERE x.delivery_id = delivery;
    IF FOUND THEN
        RETURN m.provider_id;
    END IF;
    RETURN provider_of(provider_domain_of(email));
END $$;

-- provider_complaint_add - a complaint counted for its provider
CREATE FUNCTION provider_complaint_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO provider_counts AS c (provider_id, complaints)
    VALUES (coalesce(provider_of_bounce(NEW.delivery_id, NEW.email), 0), 1)
    ON CONFLICT (provider_id) DO UPDATE SET complaints = c.complaints + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER provider_complaint_add AFTER INSERT ON bounces
    FOR EACH ROW WHEN (NEW.class = 'complaint') EXECUTE FUNCTION provider_complaint_add();
INSERT INTO provider_counts AS c (provider_id, complaints)
SELECT coalesce(provider_of_bounce(delivery_id, email), 0), count(*) FROM bounces WHERE class = 'complaint' GROUP BY 1
ON CONFLICT (provider_id) DO UPDATE SET complaints = c.complaints + excluded.complaints;
