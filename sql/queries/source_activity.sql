-- Per source: its failure streak and its usual cadence of new mentions, for the health check.
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
), arrivals AS (
    -- One row per poll that brought something new (a batch shares its first_seen_at).
    SELECT DISTINCT source_name, first_seen_at
    FROM mentions
    WHERE first_seen_at >= $now - INTERVAL 14 DAY AND source_name = ANY($sources)
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
       coalesce(c.recent_mentions, 0) AS recent_mentions, c.median_gap_hours, c.last_new_at
FROM source_state s
LEFT JOIN failing f ON f.source_key = s.source_key
LEFT JOIN cadence c ON c.source_name = s.source_key
WHERE s.source_key = ANY($sources)
ORDER BY s.source_key;
