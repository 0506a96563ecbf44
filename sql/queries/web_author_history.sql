-- An author's other mentions on the same platform, newest first, with their sentiment and any
-- ticket they opened: the history shown next to a ticket.
SELECT m.id AS mention_id, m.published_at, m.source, m.url, m.title, m.text,
       s.label, s.compound, s.complaint,
       t.id AS ticket_id, t.status AS ticket_status, t.brand AS ticket_brand
FROM mentions m
LEFT JOIN mention_scores s ON s.mention_id = m.id
LEFT JOIN tickets t ON t.mention_id = m.id
WHERE m.source = $source
  AND m.id <> $mention_id
  AND ((m.author_id IS NOT NULL AND m.author_id = $author_id)
       OR (m.author_handle IS NOT NULL AND m.author_handle = $author_handle))
ORDER BY m.published_at DESC
LIMIT $limit;
