-- Apply the escalations in desk_escalations (registered by desk/sla.py): one 'breached'
-- event per ticket and deadline, one 'escalated' event per level reached, one
-- 'priority_raised' per priority reached; then the tickets. Event ids come from what they
-- record, so a rerun in the same hour, or the next, logs nothing twice.
INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT 'E-' || e.id || '-breached-' || e.deadline_kind || '-' || epoch(e.deadline)::BIGINT,
       e.id, e.at, 'earful', 'breached',
       json_object('deadline', e.deadline_kind, 'due_at', e.deadline, 'priority', e.priority_from,
                   'assignee', e.assignee)
FROM desk_escalations e
ON CONFLICT DO NOTHING;

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT 'E-' || e.id || '-escalated-' || e.level, e.id, e.at, 'earful', 'escalated',
       json_object('level', e.level, 'to', e.level_name, 'contacts', e.contacts,
                   'deadline', e.deadline_kind, 'due_at', e.deadline)
FROM desk_escalations e
WHERE e.level > e.level_from
ON CONFLICT DO NOTHING;

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT 'E-' || e.id || '-raised-' || e.priority_to, e.id, e.at, 'earful', 'priority_raised',
       json_object('from', e.priority_from, 'to', e.priority_to,
                   'reason', 'escalated: ' || e.deadline_kind || ' deadline breached')
FROM desk_escalations e
WHERE e.priority_to < e.priority_from
ON CONFLICT DO NOTHING;

UPDATE tickets SET
    escalation_level = e.level,
    escalated_at = e.at,
    priority = e.priority_to,
    updated_at = e.at
FROM desk_escalations e
WHERE e.id = tickets.id AND e.level > e.level_from;
