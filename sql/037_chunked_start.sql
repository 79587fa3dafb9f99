-- 037_chunked_start: a campaign's audience is made in chunks of subscriber
-- ids, and its first messages go out as soon as the first chunk commits.
--
-- The audience is fixed when the campaign starts (campaign_start):
--   * its lists, its segment's or filter's compiled condition and values are
--     copied onto the campaign (audience_lists, audience_sql,
--     audience_params): a segment edited later changes nothing;
--   * audience_cutoff is the highest subscriber id then: a subscriber created
--     later is in no chunk;
--   * a subscriber whose row, or one of whose subscriptions, changes while
--     the campaign's audience is being made, before the chunk holding their id
--     is made, has the campaign's decision taken first, on the rows as they
--     were before the change (audience_freeze, below): whether they are in the
--     audience, through which list, is noted in audience_early, and the chunk
--     takes that note instead of the rows. So joining a list, confirming,
--     being enabled again or an attribute change that makes a segment match,
--     after the start, does not add anyone; one who unsubscribes after it is
--     in the audience and skipped at claim time, as for any campaign.
-- A filter's engagement tests (opened(), clicked(), bounced() ...) read the
-- other campaigns' opens, clicks and bounces as the chunk is made.
--
-- Chunks (campaign_audience_step) are ranges of AUDIENCE_CHUNK subscriber
-- ids from audience_next; each is one transaction, under an advisory lock on
-- the campaign (so no two processes make one chunk), that inserts the
-- chunk's deliveries (the unique key on campaign and subscriber forbids a
-- second one anyway), moves the counters and advances audience_next. A
-- process killed mid-chunk leaves it unmade, and the next to come makes it:
-- `campaign send` after its first chunk, any sender's housekeeping. The
-- campaign is not finished while audience_pending; the audience goes on being
-- made while it is paused; cancelling it stops it.
--
-- A campaign with an A/B test starts as before, its whole audience in one
-- statement: its sample must be a uniform draw of the whole audience (the
-- first chunks hold the oldest subscribers only), its size a share of the
-- whole, and only the sample goes out before the test's window (hours) ends:
-- starting it after the whole audience is written delays the test by less
-- than a minute at a million, and the rest not at all.
ALTER TABLE campaigns
    ADD COLUMN audience_pending boolean NOT NULL DEFAULT false,
    ADD COLUMN audience_lists   bigint[],
    ADD COLUMN audience_sql     text,
    ADD COLUMN audience_params  text[],
    ADD COLUMN audience_first   bigint,
    ADD COLUMN audience_next    bigint,
    ADD COLUMN audience_cutoff  bigint,
    ADD COLUMN audience_chunk   bigint;
CREATE INDEX campaigns_audience_pending_idx ON campaigns (id) WHERE audience_pending;

-- A decision taken before a change: LIST_ID the list the subscriber is mailed
-- through, NULL when not in the audience. Kept until the audience is made.
CREATE TABLE audience_early (
    campaign_id   bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id bigint NOT NULL,
    list_id       bigint,
    PRIMARY KEY (campaign_id, subscriber_id)
);

-- audience_select - the query text of an audience: DISTINCT subscriber_id,
-- list_id from subscriptions SL and subscribers S (table names or
-- parenthesised queries), for the subscribers WHICH says, in the lists $3,
-- passing condition COND (values in $2; NULL: none). $1 is the campaign.
CREATE FUNCTION audience_select(cond text, s text, sl text, which text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
SELECT 'SELECT DISTINCT ON (sl.subscriber_id) sl.subscriber_id, sl.list_id'
    || ' FROM ' || sl || ' sl JOIN lists l ON l.id = sl.list_id'
    || ' JOIN ' || s || ' s ON s.id = sl.subscriber_id'
    || ' WHERE ' || which || ' AND sl.list_id = ANY ($3) AND s.status = ''enabled'''
    || '   AND (sl.status = ''confirmed'' OR (sl.status = ''unconfirmed'' AND l.optin = ''single''))'
    || CASE WHEN cond IS NULL THEN '' ELSE ' AND (' || cond || ')' END
    || ' ORDER BY sl.subscriber_id, sl.list_id'
$$;

-- audience_range - make campaign C's deliveries for subscriber ids LO..HI
-- (the noted decisions of audience_early where there are some); how many.
CREATE FUNCTION audience_range(c campaigns, lo bigint, hi bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    made bigint;
BEGIN
    EXECUTE 'INSERT INTO deliveries (campaign_id, subscriber_id, list_id)'
         || ' SELECT $1, a.subscriber_id, a.list_id FROM ('
         || audience_select(c.audience_sql, 'subscribers', 'subscriptions',
                'sl.subscriber_id BETWEEN $4 AND $5 AND s.id BETWEEN $4 AND $5'
             || ' AND NOT EXISTS (SELECT 1 FROM audience_early e WHERE e.campaign_id = $1'
             || '   AND e.subscriber_id = sl.subscriber_id)')
         || ' ) a UNION ALL SELECT $1, e.subscriber_id, e.list_id FROM audience_early e'
         || ' WHERE e.campaign_id = $1 AND e.subscriber_id BETWEEN $4 AND $5 AND e.list_id IS NOT NULL'
         || '   AND EXISTS (SELECT 1 FROM subscribers s WHERE s.id = e.subscriber_id)'
         || ' ON CONFLICT (campaign_id, subscriber_id) WHERE data IS NULL DO NOTHING'
      USING c.id, c.audience_params, c.audience_lists, lo, hi;
    GET DIAGNOSTICS made = ROW_COUNT;
    RETURN made;
END $$;

-- campaign_start - start campaign CID (the caller holds its row, a draft or
-- scheduled): running, its audience fixed, and either its first chunk made
-- or, when CHUNK is 0 or it has an A/B test, its whole audience. The first
-- chunk is of CHUNK subscriber ids but at most 1,000 (a sender's first claim
-- takes no more; the smaller it is, the sooner it commits), widened by CHUNK
-- ids while it makes nobody. Returns how many deliveries it made.
CREATE FUNCTION campaign_start(cid bigint, chunk bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    made bigint := 0;
    held bigint;
    lo bigint;
    hi bigint;
BEGIN
    IF coalesce(chunk, 0) <= 0 OR EXISTS (SELECT 1 FROM campaign_ab WHERE campaign_id = cid) THEN
        made := campaign_audience(cid);
        held := campaign_ab_hold(cid, made);
        UPDATE campaigns x SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now(),
               n_total = n_total + made, n_queued = n_queued + made - held, n_held = n_held + held,
               audience_filter = coalesce((SELECT g.filter FROM segments g WHERE g.id = x.segment_id), x.filter)
         WHERE id = cid;
        RETURN made;
    END IF;
    UPDATE campaigns x SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now(),
           audience_filter = coalesce((SELECT g.filter FROM segments g WHERE g.id = x.segment_id), x.filter),
           audience_sql = coalesce((SELECT g.sql FROM segments g WHERE g.id = x.segment_id), x.filter_sql),
           audience_params = coalesce((SELECT g.params FROM segments g WHERE g.id = x.segment_id), x.filter_params),
           audience_lists = (SELECT coalesce(array_agg(list_id ORDER BY list_id), '{}') FROM campaign_lists
                              WHERE campaign_id = cid),
           audience_first = coalesce((SELECT min(id) FROM subscribers), 1),
           audience_cutoff = coalesce((SELECT max(id) FROM subscribers), 0),
           audience_chunk = chunk
     WHERE id = cid RETURNING * INTO c;
    hi := c.audience_first - 1;
    LOOP
        lo := hi + 1;
        hi := least(hi + CASE WHEN lo = c.audience_first THEN least(chunk, 1000) ELSE chunk END, c.audience_cutoff);
        made := made + audience_range(c, lo, hi);
        EXIT WHEN made > 0 OR hi >= c.audience_cutoff;
    END LOOP;
    UPDATE campaigns SET n_total = n_total + made, n_queued = n_queued + made, audience_next = hi + 1,
           audience_pending = hi < audience_cutoff
     WHERE id = cid;
    RETURN made;
END $$;

-- campaign_audience_step - make the next chunk of campaign CID's audience,
-- under the campaign's advisory lock (WAIT: waiting for it, else giving up
-- at once). Returns how many deliveries it made; -1 when another holds the
-- lock; NULL when there is nothing to make (the audience is whole, or the
-- campaign neither running nor paused). A cancel that commits meanwhile
-- undoes the chunk.
CREATE FUNCTION campaign_audience_step(cid bigint, wait boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    k int := hashtext('postino audience');
    made bigint;
    hi bigint;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(k, (cid % 2147483647)::int);
    ELSIF NOT pg_try_advisory_xact_lock(k, (cid % 2147483647)::int) THEN
        RETURN -1;
    END IF;
    SELECT * INTO c FROM campaigns WHERE id = cid;
    IF NOT FOUND OR NOT c.audience_pending OR c.status NOT IN ('running', 'paused') THEN
        RETURN NULL;
    END IF;
    hi := least(c.audience_next + c.audience_chunk - 1, c.audience_cutoff);
    BEGIN
        made := audience_range(c, c.audience_next, hi);
        UPDATE campaigns SET n_total = n_total + made, n_queued = n_queued + made, audience_next = hi + 1,
               audience_pending = hi < audience_cutoff, updated_at = now()
         WHERE id = cid AND status IN ('running', 'paused') AND audience_next = c.audience_next;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'campaign % stopped while its audience was being made', cid;
        END IF;
    EXCEPTION WHEN raise_exception THEN
        RETURN NULL;
    END;
    IF hi >= c.audience_cutoff THEN
        DELETE FROM audience_early WHERE campaign_id = cid;
    END IF;
    RETURN made;
END $$;

-- audience_freeze - after a statement changed subscribers or subscriptions:
-- for each campaign whose audience is being made, the subscribers it touched
-- whose chunk is still to come and who have no decision yet get one, taken
-- on their rows as they were before the statement (its transition tables).
CREATE FUNCTION audience_freeze() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    touched bigint[];
    sids bigint[];
    s_src text := 'subscribers';
    sl_src text := 'subscriptions';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM campaigns WHERE audience_pending) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'subscribers' THEN
        SELECT array_agg(DISTINCT id) INTO touched FROM old_rows;
        s_src := 'old_rows';
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT subscriber_id) INTO touched FROM new_rows;
        sl_src := '(SELECT * FROM subscriptions x WHERE NOT EXISTS (SELECT 1 FROM new_rows n'
               || ' WHERE n.subscriber_id = x.subscriber_id AND n.list_id = x.list_id))';
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT subscriber_id) INTO touched FROM old_rows;
        sl_src := '(SELECT * FROM subscriptions x WHERE NOT EXISTS (SELECT 1 FROM new_rows n'
               || ' WHERE n.subscriber_id = x.subscriber_id AND n.list_id = x.list_id)'
               || ' UNION ALL SELECT * FROM old_rows)';
    ELSE
        SELECT array_agg(DISTINCT subscriber_id) INTO touched FROM old_rows;
        sl_src := '(SELECT * FROM subscriptions UNION ALL SELECT * FROM old_rows)';
    END IF;
    FOR c IN SELECT * FROM campaigns WHERE audience_pending AND status IN ('running', 'paused') LOOP
        SELECT array_agg(t.id) INTO sids FROM unnest(touched) t(id)
         WHERE t.id >= c.audience_next AND t.id <= c.audience_cutoff
           AND NOT EXISTS (SELECT 1 FROM audience_early e WHERE e.campaign_id = c.id AND e.subscriber_id = t.id);
        CONTINUE WHEN sids IS NULL;
        EXECUTE 'INSERT INTO audience_early (campaign_id, subscriber_id, list_id)'
             || ' SELECT $1, t.id, a.list_id FROM unnest($4::bigint[]) t(id) LEFT JOIN ('
             || audience_select(c.audience_sql, s_src, sl_src, 'sl.subscriber_id = ANY ($4) AND s.id = ANY ($4)')
             || ') a ON a.subscriber_id = t.id ON CONFLICT DO NOTHING'
          USING c.id, c.audience_params, c.audience_lists, sids;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER subscribers_audience_freeze AFTER UPDATE ON subscribers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audience_freeze();
CREATE TRIGGER subscriptions_audience_freeze_ins AFTER INSERT ON subscriptions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audience_freeze();
CREATE TRIGGER subscriptions_audience_freeze_upd AFTER UPDATE ON subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audience_freeze();
CREATE TRIGGER subscriptions_audience_freeze_del AFTER DELETE ON subscriptions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audience_freeze();
-- fired under session_replication_role replica too (the importer's fast path)
ALTER TABLE subscribers ENABLE ALWAYS TRIGGER subscribers_audience_freeze;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_audience_freeze_ins;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_audience_freeze_upd;
ALTER TABLE subscriptions ENABLE ALWAYS TRIGGER subscriptions_audience_freeze_del;
