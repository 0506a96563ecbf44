-- Digest: tickets per brand and priority as of $now. Open: not resolved or dismissed.
-- Breached: open and past due_at. Awaiting: open with no event by a person yet (actors in
-- $system_actors, or starting with 'earful', are not people). Opened: opened in
-- [$since, $until). Reads only the columns of the first migration, so later lifecycle
-- columns change nothing here.
WITH answered AS (
    SELECT DISTINCT e.ticket_id
    FROM ticket_events e
    WHERE e.action <> 'opened' AND e.actor NOT LIKE 'earful%'
      AND NOT list_contains(CAST($system_actors AS VARCHAR[]), e.actor)
)
SELECT t.brand, t.priority,
       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'dismissed')) AS open,
       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'dismissed')
                          AND t.due_at < $now) AS breached,
       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'dismissed')
                          AND a.ticket_id IS NULL) AS awaiting,
       count(*) FILTER (WHERE t.opened_at >= $since AND t.opened_at < $until) AS opened
FROM tickets t
LEFT JOIN answered a ON a.ticket_id = t.id
GROUP BY t.brand, t.priority
HAVING open > 0 OR opened > 0
ORDER BY t.brand, t.priority;
