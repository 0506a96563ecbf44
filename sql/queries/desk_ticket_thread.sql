-- The mentions linked to a ticket besides the one that opened it (same thread, same author,
-- rescue follow-ups), oldest first.
SELECT tm.relation, tm.linked_at, m.id AS mention_id, m.source, m.source_name, m.url,
       m.title, m.text, m.author_handle, m.author_name, m.published_at, m.is_own,
       s.compound, s.label, s.complaint, s.is_complaint
FROM ticket_mentions tm
JOIN mentions m ON m.id = tm.mention_id
LEFT JOIN mention_scores s ON s.mention_id = m.id
WHERE tm.ticket_id = $id AND tm.relation <> 'origin'
ORDER BY m.published_at, m.id;
