-- SLA figures per priority and overall (priority NULL) for tickets opened since $since
-- (dismissed ones need no answer and are left out): median minutes to first response, the
-- share answered within the first-response SLA and resolved within the resolution SLA
-- (of the tickets whose outcome is known: answered, or past the deadline), and, among all
-- open tickets, the breaches and those at risk at $now.
WITH t AS (
    SELECT *,
           sla_state(ticket_active_due(status, first_response_at, due_at, resolution_due_at),
                     opened_at, $now, $share) AS state
    FROM tickets
)
SELECT CASE WHEN grouping(priority) = 1 THEN NULL ELSE priority END AS priority,
       count(*) FILTER (WHERE opened_at >= $since AND status <> 'dismissed') AS tickets,
       count(*) FILTER (WHERE opened_at >= $since AND first_response_at IS NOT NULL
                        AND status <> 'dismissed') AS responded,
       median((epoch(first_response_at) - epoch(opened_at)) / 60) FILTER (
           WHERE opened_at >= $since AND status <> 'dismissed') AS median_first_response_minutes,
       count(*) FILTER (WHERE opened_at >= $since AND status <> 'dismissed'
                        AND first_response_at <= due_at) AS first_response_in_sla,
       count(*) FILTER (WHERE opened_at >= $since AND status <> 'dismissed'
                        AND (first_response_at IS NOT NULL OR due_at < $now))
           AS first_response_known,
       count(*) FILTER (WHERE opened_at >= $since AND status = 'resolved'
                        AND resolved_at <= resolution_due_at) AS resolved_in_sla,
       count(*) FILTER (WHERE opened_at >= $since AND status <> 'dismissed'
                        AND (resolved_at IS NOT NULL OR resolution_due_at < $now))
           AS resolution_known,
       count(*) FILTER (WHERE status NOT IN ('resolved', 'dismissed')) AS open,
       count(*) FILTER (WHERE state = 'breached') AS open_breaches,
       count(*) FILTER (WHERE state = 'at_risk') AS at_risk
FROM t
GROUP BY GROUPING SETS ((priority), ())
ORDER BY priority NULLS FIRST;
