-- Open tickets past the deadline that applies to them at $now (first response, then
-- resolution): what escalate_due weighs.
SELECT t.id, t.brand, t.kind, t.status, t.priority, t.assignee, t.vip, t.opened_at,
       t.due_at, t.resolution_due_at, t.first_response_at, t.escalation_level,
       t.escalated_at,
       ticket_active_due(t.status, t.first_response_at, t.due_at, t.resolution_due_at)
           AS active_due_at
FROM tickets t
WHERE t.status NOT IN ('resolved', 'dismissed')
  AND ticket_active_due(t.status, t.first_response_at, t.due_at, t.resolution_due_at) < $now
ORDER BY t.id;
