-- The work queue: tickets matching the filters (NULL = any; status NULL = not resolved or
-- dismissed, 'all' = every status), breached first, then at risk, then by risk and deadline.
-- due_at is the deadline that applies now (first response, then resolution).
WITH q AS (
    SELECT t.*,
           ticket_active_due(t.status, t.first_response_at, t.due_at, t.resolution_due_at)
               AS active_due_at
    FROM tickets t
    WHERE ($brand IS NULL OR t.brand = $brand)
      AND ($priority IS NULL OR t.priority = $priority)
      AND ($assignee IS NULL OR t.assignee = $assignee
           OR ($assignee = '' AND t.assignee IS NULL))
      AND (CASE WHEN $status IS NULL THEN t.status NOT IN ('resolved', 'dismissed')
                WHEN $status = 'all' THEN true
                ELSE t.status = $status END)
)
SELECT q.id AS ticket_id, q.brand, m.source, m.source_name, q.kind, q.status, q.priority,
       q.risk, q.reason, q.reach, q.assignee, q.opened_at, q.active_due_at AS due_at,
       q.due_at AS first_response_due_at, q.resolution_due_at, q.first_response_at,
       sla_state(q.active_due_at, q.opened_at, $now, $share) AS sla_state,
       q.escalation_level, q.vip, q.vip_name, q.root_cause, q.dismiss_reason,
       m.author_handle, m.author_name, m.url, m.title, m.text, m.published_at,
       (SELECT count(*) FROM ticket_mentions tm
        WHERE tm.ticket_id = q.id AND tm.relation IN ('thread', 'author')) AS attached
FROM q
JOIN mentions m ON m.id = q.mention_id
WHERE ($source IS NULL OR m.source = $source OR m.source_name = $source)
ORDER BY CASE sla_state(q.active_due_at, q.opened_at, $now, $share)
             WHEN 'breached' THEN 0 WHEN 'at_risk' THEN 1 ELSE 2 END,
         q.risk DESC, q.priority, q.active_due_at, q.id
LIMIT $limit;
