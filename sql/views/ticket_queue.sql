-- Tickets not yet resolved or dismissed, most urgent first. due_at is the first-response
-- deadline, resolution_due_at the resolution one; active_due_at whichever applies now, and
-- sla_state its state now ('breached', 'at_risk' with under a quarter of the time left, or
-- 'ok'); overdue = breached.
CREATE OR REPLACE VIEW ticket_queue AS
SELECT t.ticket_id, t.priority, t.status, t.brand, t.kind, t.reason, t.reach,
       t.opened_at, t.due_at, t.resolution_due_at, t.active_due_at,
       t.sla_state = 'breached' AS overdue, t.sla_state, t.escalation_level, t.vip,
       t.assignee, m.source, m.url, m.author_handle, m.author_name, m.text
FROM (
    SELECT *, id AS ticket_id,
           ticket_active_due(status, first_response_at, due_at, resolution_due_at)
               AS active_due_at,
           sla_state(ticket_active_due(status, first_response_at, due_at, resolution_due_at),
                     opened_at, now(), 0.25) AS sla_state
    FROM tickets
    WHERE status NOT IN ('resolved', 'dismissed')
) t
JOIN mentions m ON m.id = t.mention_id
ORDER BY t.priority, t.active_due_at;
