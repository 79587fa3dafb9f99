-- 026_ab_tests: A/B tests of a campaign's subject (and body, and From name).
--
-- A campaign with a row in campaign_ab has 2 to 4 variants (campaign_variants,
-- numbered from 1). When it starts, a sample of its audience (a percentage or
-- a count) is chosen uniformly at random but reproducibly: the deliveries in
-- the order of md5(campaign id ':' subscriber id), the first ones taken; they
-- get the variants in turn (an even split), the others wait in the state
-- 'held', which no sender claims. After the window the winner (most unique
-- opens or clicks; a tie goes to the lower number) is picked by the scheduler,
-- or by hand, and in one transaction every held delivery becomes queued with
-- the winning variant.

CREATE TABLE campaign_ab (
    campaign_id  bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    sample_pct   int CHECK (sample_pct BETWEEN 1 AND 99),
    sample_count bigint CHECK (sample_count > 0),
    metric       text NOT NULL CHECK (metric IN ('opens', 'clicks')),
    window_s     int NOT NULL CHECK (window_s > 0),
    pick         text NOT NULL DEFAULT 'auto' CHECK (pick IN ('auto', 'manual')),
    test_size    bigint,               -- how many the sample took, when the campaign started
    winner       smallint CHECK (winner BETWEEN 1 AND 4),
    decided_at   timestamptz,
    decided_by   text CHECK (decided_by IN ('auto', 'manual')),
    CHECK ((sample_pct IS NULL) <> (sample_count IS NULL))
);

CREATE TABLE campaign_variants (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    n           smallint NOT NULL CHECK (n BETWEEN 1 AND 4),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
    html        text,                  -- NULL: the campaign's body
    from_name   text,                  -- NULL: the campaign's From name
    PRIMARY KEY (campaign_id, n)
);

-- A delivery's variant (NULL: the campaign's own content); 'held': in an A/B
-- test's rest, waiting for the winner. n_held counts them as the other n_* do.
ALTER TABLE deliveries ADD COLUMN variant smallint;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('queued', 'sent', 'deferred', 'failed', 'skipped', 'cancelled', 'held'));
ALTER TABLE campaigns ADD COLUMN n_held bigint NOT NULL DEFAULT 0;
-- A variant's deliveries, for its results (only those of A/B tests are in it).
CREATE INDEX deliveries_variant_idx ON deliveries (campaign_id, variant) WHERE variant IS NOT NULL;

-- campaign_ab_hold - split the MADE deliveries campaign_audience just made
-- for campaign CID into its A/B test's sample and rest; returns how many are
-- held (0 for a campaign with no test). The caller moves the counters.
CREATE FUNCTION campaign_ab_hold(cid bigint, made bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    a campaign_ab%ROWTYPE;
    k int;
    size bigint;
    held bigint;
BEGIN
    SELECT * INTO a FROM campaign_ab WHERE campaign_id = cid;
    IF NOT FOUND OR a.test_size IS NOT NULL THEN
        RETURN 0;
    END IF;
    SELECT count(*) INTO k FROM campaign_variants WHERE campaign_id = cid;
    size := CASE WHEN a.sample_count IS NOT NULL THEN least(a.sample_count, made)
                 ELSE ceil(made * a.sample_pct / 100.0)::bigint END;
    UPDATE deliveries d SET variant = ((r.rn - 1) % k + 1)::smallint
      FROM (SELECT id, row_number() OVER (ORDER BY md5(cid::text || ':' || subscriber_id::text), id) AS rn
              FROM deliveries WHERE campaign_id = cid AND state = 'queued' AND data IS NULL) r
     WHERE d.id = r.id AND r.rn <= size;
    UPDATE deliveries SET state = 'held'
     WHERE campaign_id = cid AND state = 'queued' AND variant IS NULL AND data IS NULL;
    GET DIAGNOSTICS held = ROW_COUNT;
    UPDATE campaign_ab SET test_size = size WHERE campaign_id = cid;
    RETURN held;
END $$;
