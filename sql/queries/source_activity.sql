-- Per source: its failure streak, its usual cadence of new mentions and the last run that
-- polled it and got an answer (silence is judged up to then), for the health check.
-- $sources: configured source names; $now: the check time.
WITH last_good AS (
    SELECT rs.source_key, max(r.started_at) AS at
    FROM run_sources rs JOIN runs r ON r.id = rs.run_id
    WHERE rs.status IN ('ok', 'not_modified')
    GROUP BY rs.source_key
), failing AS (
    SELECT rs.source_key, min(r.started_at) AS since
    FROM run_sources rs
    JOIN runs r ON r.id = rs.run_id
    LEFT JOIN last_good g ON g.source_key = rs.source_key
    WHERE rs.status = 'error' AND (g.at IS NULL OR r.started_at > g.at)
    GROUP BY rs.source_key
), polls_with_news AS (
    -- One row per poll that brought something new (a batch shares its first_seen_at).
    SELECT DISTINCT source_name, first_seen_at
    FROM mentions
    WHERE source_name = ANY($sources) AND first_seen_at <= $now
), arrivals AS (
    -- The cadence is the one of the two weeks before the last new mention, not before now:
    -- counted back from now, a source bringing something every few days would drop below
    -- the history it needs while it is silent, and never be judged.
    SELECT p.source_name, p.first_seen_at
    FROM polls_with_news p
    JOIN (SELECT source_name, max(first_seen_at) AS at FROM polls_with_news
          GROUP BY source_name) l ON l.source_name = p.source_name
    WHERE p.first_seen_at >= l.at - INTERVAL 14 DAY
), gaps AS (
    SELECT source_name, first_seen_at,
           epoch(first_seen_at - lag(first_seen_at) OVER (
               PARTITION BY source_name ORDER BY first_seen_at)) / 3600.0 AS gap_hours
    FROM arrivals
), cadence AS (
    SELECT source_name, count(*) AS recent_mentions, max(first_seen_at) AS last_new_at,
           median(gap_hours) AS median_gap_hours
    FROM gaps
    GROUP BY source_name
)
SELECT s.source_key AS source_name, s.error_count, s.last_error, f.since AS failing_since,
       coalesce(c.recent_mentions, 0) AS recent_mentions, c.median_gap_hours, c.last_new_at,
       g.at AS last_polled_at
FROM source_state s
LEFT JOIN last_good g ON g.source_key = s.source_key
LEFT JOIN failing f ON f.source_key = s.source_key
LEFT JOIN cadence c ON c.source_name = s.source_key
WHERE s.source_key = ANY($sources)
ORDER BY s.source_key;
