-- The 'opened' event of each ticket this batch creates; its id is derived from the ticket,
-- so a rerun cannot log it twice.
INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT DISTINCT ON (b.id)
    'E-' || b.id || '-opened', b.id, b.opened_at, 'earful', 'opened',
    json_object('priority', b.priority, 'reason', b.reason, 'risk', b.risk, 'reach', b.reach,
                'kind', b.kind, 'vip', b.vip, 'assignee', b.assignee)
FROM desk_plan b ANTI JOIN tickets t ON t.id = b.id
WHERE b.action = 'open'
ON CONFLICT DO NOTHING;
