-- Digest: time to first response. A ticket's first response is the first event by a person
-- (not an actor in $system_actors nor one starting with 'earful') after its 'opened' event
-- (tickets.opened_at when the event is missing). Counts the first responses made in
-- [$since, $until): per priority, and overall (priority NULL). Seconds.
WITH opened AS (
    SELECT t.id, t.priority,
           coalesce(min(e.occurred_at) FILTER (WHERE e.action = 'opened'), t.opened_at)
               AS opened_at
    FROM tickets t
    LEFT JOIN ticket_events e ON e.ticket_id = t.id
    GROUP BY t.id, t.priority, t.opened_at
),
first_response AS (
    SELECT o.id, o.priority, o.opened_at, min(e.occurred_at) AS responded_at
    FROM opened o
    JOIN ticket_events e ON e.ticket_id = o.id
    WHERE e.action <> 'opened' AND e.actor NOT LIKE 'earful%'
      AND NOT list_contains(CAST($system_actors AS VARCHAR[]), e.actor)
      AND e.occurred_at >= o.opened_at
    GROUP BY o.id, o.priority, o.opened_at
)
SELECT CASE WHEN grouping(priority) = 1 THEN NULL ELSE priority END AS priority,
       count(*) AS responses,
       median(epoch(responded_at) - epoch(opened_at)) AS median_seconds
FROM first_response
WHERE responded_at >= $since AND responded_at < $until
GROUP BY GROUPING SETS ((priority), ())
ORDER BY priority NULLS FIRST;
