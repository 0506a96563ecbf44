-- Ticket events a notification route may want: recent enough, of a wanted kind, with the
-- ticket and its mention (what the message says). Already-enqueued ones are skipped by the
-- outbox's key (ON CONFLICT DO NOTHING), so this may return them again.
SELECT e.id AS event_id, e.ticket_id, e.occurred_at, e.action AS kind, e.detail,
       t.brand, t.kind AS ticket_kind, t.status, t.priority AS ticket_priority, t.reason,
       t.reach, t.due_at, t.assignee,
       m.source, m.url, m.author_handle, m.author_name, m.author_url, m.text
FROM ticket_events e
JOIN tickets t ON t.id = e.ticket_id
JOIN mentions m ON m.id = t.mention_id
WHERE e.occurred_at >= $since AND e.action IN (SELECT unnest($kinds::VARCHAR[]))
ORDER BY e.occurred_at, e.id;
