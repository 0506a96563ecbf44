-- `earful sources`: each source's polling state, its last run and its open health alerts.
SELECT s.source_key AS source, s.checked_at, s.next_check_at, s.error_count, s.last_error,
       s.rate_limit_remaining, s.rate_limit_reset,
       (SELECT max(first_seen_at) FROM mentions m WHERE m.source_name = s.source_key)
           AS last_new_mention_at,
       (SELECT count(*) FROM mentions m WHERE m.source_name = s.source_key) AS mentions,
       (SELECT string_agg(a.kind, ', ') FROM alerts a
         WHERE a.source_name = s.source_key AND a.raised_at >= $now - INTERVAL 1 DAY)
           AS recent_alerts
FROM source_state s
ORDER BY s.source_key;
