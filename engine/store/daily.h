/*
 * daily - the statements that keep daily_counts (sql/015_report_counts.sql),
 * written into the statements whose work they count, so that a day's figure
 * moves in the same transaction as what it counts.
 *
 * DAILY_SUBSCRIBERS_SQL(n)  an INSERT adding N (SQL for a bigint: "$1::bigint",
 *                           "(SELECT count(*) FROM s)") new subscribers to
 *                           today's row (UTC); nothing when N is 0
 *
 * New subscribers are counted by the three writers that make them (adding
 * one, a transactional message's new recipient, a subscribe import: once,
 * with its total), not by a trigger: a trigger with a transition table made
 * an import into an empty table twice as slow.
 */
#ifndef POSTINO_STORE_DAILY_H
#define POSTINO_STORE_DAILY_H

#define DAILY_SUBSCRIBERS_SQL(n)                                                                           \
    "INSERT INTO daily_counts AS dc (day, campaign_id, subscribers)"                                       \
    " SELECT (now() AT TIME ZONE 'UTC')::date, 0, x.n FROM (SELECT " n " AS n) x WHERE x.n > 0"           \
    " ON CONFLICT (day, campaign_id) DO UPDATE SET subscribers = dc.subscribers + excluded.subscribers"

#endif
