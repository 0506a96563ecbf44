-- Digest: open tickets (not resolved or dismissed) past their due time at $now, most
-- overdue first, with the mention they answer. At most $limit rows.
SELECT t.id AS ticket_id, t.brand, t.priority, t.status, t.opened_at, t.due_at,
       epoch($now) - epoch(t.due_at) AS overdue_seconds,
       m.source_name, m.url, m.title, m.text, m.author_handle, m.author_name
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
WHERE t.status NOT IN ('resolved', 'dismissed') AND t.due_at < $now
ORDER BY t.due_at, t.priority, t.id
LIMIT $limit;
