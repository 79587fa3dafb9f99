-- 010_deliveries_hot: a claim updates its rows in place.
--
-- A claim changes only lease_owner, lease_until and updated_at. With no index
-- on lease_owner and room left in each page, PostgreSQL makes that a HOT
-- update: the new row version goes to the same page and no index gets a new
-- entry (seven did before), which halves the claim's buffer and WAL traffic.
-- Renewing and releasing leases, the statements that looked rows up by
-- lease_owner, run every lease/3 seconds and when a sender stops; they now
-- read the partial index of due rows instead. Recording goes by primary key.
-- Pages written from now on are filled to 60%; existing ones keep their rows.
ALTER TABLE deliveries SET (fillfactor = 60);
DROP INDEX IF EXISTS deliveries_lease_idx;
