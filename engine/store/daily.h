/*
 * daily - the statements that keep daily_counts (sql/016_report_counts.sql),
 * written into the statements whose work they count, so that a day's figure
 * moves in the same transaction as what it counts.
 *
 * DAILY_SUBSCRIBERS_SQL(n)  an INSERT noting N (SQL for a bigint: "$1::bigint",
 *                           "(SELECT count(*) FROM s)") new subscribers today
 *                           (UTC); nothing when N is 0
 *
 * New subscribers are counted by the three writers that make them (adding
 * one, a transactional message's new recipient, a subscribe import: once,
 * with its total), not by a trigger: a trigger with a transition table made
 * an import into an empty table twice as slow. Each note is a row of its own
 * in subscriber_adds (no index, nothing to wait for), which the dashboard
 * folds into daily_counts when it reads them (store_dashboard): adding to one
 * row of the day instead made every POST /api/v1/subscribers wait for the one
 * before it to commit.
 */
#ifndef POSTINO_STORE_DAILY_H
#define POSTINO_STORE_DAILY_H

#define DAILY_SUBSCRIBERS_SQL(n)                                                                           \
    "INSERT INTO subscriber_adds (day, n) SELECT (now() AT TIME ZONE 'UTC')::date, x.n"                    \
    " FROM (SELECT " n " AS n) x WHERE x.n > 0"

#endif
