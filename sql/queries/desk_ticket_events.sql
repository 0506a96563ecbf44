-- A ticket's event log, oldest first.
SELECT id, occurred_at, actor, action, CAST(detail AS VARCHAR) AS detail
FROM ticket_events
WHERE ticket_id = $id
ORDER BY occurred_at, id;
