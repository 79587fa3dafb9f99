-- 021_segments: part of an audience picked by a filter (engine/mail/segment.h),
-- saved by name, or given to one campaign.
--
-- A filter is kept as written (filter) and as postino compiled it when it was
-- saved: a SQL condition over subscribers s whose values are all in one text[]
-- (params), read as ($2::text[])[K]. The condition is the compiler's text
-- alone, never the filter's; it runs in campaign_audience below.
CREATE TABLE segments (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    filter      text NOT NULL,
    sql         text NOT NULL,
    params      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A campaign's audience is its lists, narrowed by a saved segment (read when
-- the campaign starts: the segment as it is then) or by a filter of its own;
-- not both. audience_filter is the filter it started with, for the record.
ALTER TABLE campaigns
    ADD COLUMN segment_id      bigint REFERENCES segments (id) ON DELETE RESTRICT,
    ADD COLUMN filter          text,
    ADD COLUMN filter_sql      text,
    ADD COLUMN filter_params   text[],
    ADD COLUMN audience_filter text,
    ADD CONSTRAINT campaigns_one_filter CHECK (segment_id IS NULL OR filter IS NULL),
    ADD CONSTRAINT campaigns_filter_compiled CHECK ((filter IS NULL) = (filter_sql IS NULL));
CREATE INDEX campaigns_segment_idx ON campaigns (segment_id) WHERE segment_id IS NOT NULL;

-- campaign_audience - the deliveries of campaign CID's audience, made once
-- (a subscriber already in the campaign is left alone): distinct over its
-- lists, enabled subscribers whose subscription counts (confirmed;
-- unconfirmed too on single opt-in lists), each with the first such list (by
-- id) it is mailed through, and who pass its segment or filter. Returns how
-- many were made. The one statement both `campaign send` and the scheduler
-- run; they note the filter in audience_filter (CAMPAIGN_AUDIENCE_FILTER in
-- engine/store/campaigns.h) in the same statement.
--
-- The lists are given as their ids, so that the plan is made knowing how
-- large they are. A filter's engagement tests (opened(), bounced(), ...)
-- look up each subscriber in another large table: the planner, which cannot
-- tell how many subscribers a filter keeps, would pick a loop of index
-- look-ups where a hash of the other side costs a fraction of it at a million
-- (bench/segment.sh), so with a filter, nested loops are off for that one
-- statement.
CREATE FUNCTION campaign_audience(cid bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cond text;
    vals text[];
    lids bigint[];
    loops text := current_setting('enable_nestloop');
    made bigint;
BEGIN
    SELECT coalesce(g.sql, c.filter_sql), coalesce(g.params, c.filter_params) INTO cond, vals
      FROM campaigns c LEFT JOIN segments g ON g.id = c.segment_id WHERE c.id = cid;
    SELECT coalesce(array_agg(list_id ORDER BY list_id), '{}') INTO lids FROM campaign_lists WHERE campaign_id = cid;
    IF cond IS NOT NULL THEN
        PERFORM set_config('enable_nestloop', 'off', true);
    END IF;
    EXECUTE 'INSERT INTO deliveries (campaign_id, subscriber_id, list_id)'
         || ' SELECT DISTINCT ON (sl.subscriber_id) $1, sl.subscriber_id, sl.list_id'
         || ' FROM subscriptions sl JOIN lists l ON l.id = sl.list_id'
         || ' JOIN subscribers s ON s.id = sl.subscriber_id'
         || ' WHERE sl.list_id = ANY ($3) AND s.status = ''enabled'''
         || '   AND (sl.status = ''confirmed'' OR (sl.status = ''unconfirmed'' AND l.optin = ''single''))'
         || CASE WHEN cond IS NULL THEN '' ELSE ' AND (' || cond || ')' END
         || ' ORDER BY sl.subscriber_id, sl.list_id'
         || ' ON CONFLICT (campaign_id, subscriber_id) WHERE data IS NULL DO NOTHING'
      USING cid, vals, lids;
    GET DIAGNOSTICS made = ROW_COUNT;
    PERFORM set_config('enable_nestloop', loops, true);
    RETURN made;
END $$;
