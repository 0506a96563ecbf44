-- Re-evaluation: an open ticket whose mention, or a mention attached to it, now scores a
-- more urgent priority is raised (never lowered), its deadlines pulled in to the new SLA if
-- that is sooner, and the change logged. 'P1' < 'P2' as strings, so min() is the most urgent.
CREATE OR REPLACE TEMP TABLE desk_raise AS
SELECT target_id AS id, min(priority) AS priority, max(risk) AS risk,
       arg_min(reason, priority) AS reason, min(due_at) AS due_at,
       min(resolution_due_at) AS resolution_due_at, max(opened_at) AS at
FROM desk_plan
WHERE action IN ('existing', 'attach')
GROUP BY target_id;

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT 'E-' || t.id || '-raised-' || b.priority, t.id, b.at, 'earful', 'priority_raised',
       json_object('from', t.priority, 'to', b.priority, 'reason', b.reason)
FROM tickets t JOIN desk_raise b ON b.id = t.id
WHERE b.priority < t.priority AND t.status NOT IN ('resolved', 'dismissed')
ON CONFLICT DO NOTHING;

UPDATE tickets SET
    priority = b.priority,
    risk = greatest(tickets.risk, b.risk),
    reason = b.reason,
    due_at = least(tickets.due_at, b.due_at),
    resolution_due_at = least(tickets.resolution_due_at, b.resolution_due_at),
    updated_at = b.at
FROM desk_raise b
WHERE b.id = tickets.id AND b.priority < tickets.priority
  AND tickets.status NOT IN ('resolved', 'dismissed');

DROP TABLE desk_raise;
