-- Digest: the tickets breached at $now, most overdue first, with the mention they answer.
-- Breached as on the desk: past the deadline that applies, ticket_active_due() (the
-- first-response due until a first response, then the resolution due; none once resolved
-- or dismissed). due_at is that deadline and `deadline` which one it is (first_response
-- or resolution, as the escalation names it); first_response_due_at is tickets.due_at.
-- At most $limit rows.
WITH active AS (
    SELECT t.*,
           ticket_active_due(t.status, t.first_response_at, t.due_at, t.resolution_due_at)
               AS active_due_at
    FROM tickets t
)
SELECT t.id AS ticket_id, t.brand, t.priority, t.status, t.opened_at,
       t.active_due_at AS due_at,
       CASE WHEN t.first_response_at IS NULL THEN 'first_response' ELSE 'resolution' END
           AS deadline,
       t.due_at AS first_response_due_at, t.resolution_due_at, t.first_response_at,
       epoch($now) - epoch(t.active_due_at) AS overdue_seconds,
       m.source_name, m.url, m.title, m.text, m.author_handle, m.author_name
FROM active t
JOIN mentions m ON m.id = t.mention_id
WHERE t.active_due_at < $now
ORDER BY t.active_due_at, t.priority, t.id
LIMIT $limit;
