-- Tickets not yet resolved or dismissed, most urgent first; overdue = past the first-response
-- SLA.
CREATE OR REPLACE VIEW ticket_queue AS
SELECT t.id AS ticket_id, t.priority, t.status, t.brand, t.kind, t.reason, t.reach,
       t.opened_at, t.due_at, t.due_at < now() AS overdue, t.assignee,
       m.source, m.url, m.author_handle, m.author_name, m.text
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
WHERE t.status NOT IN ('resolved', 'dismissed')
ORDER BY t.priority, t.due_at;
