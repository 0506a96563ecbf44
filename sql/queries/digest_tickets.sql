-- Digest: tickets per brand and priority as of $now, by the response desk's definitions
-- (sql/views/desk_sla.sql, as in the queue and the desk's SLA figures). Open: not resolved
-- or dismissed. Breached: past the deadline that applies at $now, ticket_active_due(): the
-- first-response due (due_at) until the ticket has a first response, then the resolution
-- due; none once resolved or dismissed. Awaiting: open with no first response
-- (first_response_at, set by a recorded reply or by resolving; acknowledging, assigning or
-- a note is not one). Opened: opened in [$since, $until).
SELECT t.brand, t.priority,
       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'dismissed')) AS open,
       count(*) FILTER (WHERE ticket_active_due(t.status, t.first_response_at, t.due_at,
                                                t.resolution_due_at) < $now) AS breached,
       count(*) FILTER (WHERE t.status NOT IN ('resolved', 'dismissed')
                          AND t.first_response_at IS NULL) AS awaiting,
       count(*) FILTER (WHERE t.opened_at >= $since AND t.opened_at < $until) AS opened
FROM tickets t
GROUP BY t.brand, t.priority
HAVING open > 0 OR opened > 0
ORDER BY t.brand, t.priority;
