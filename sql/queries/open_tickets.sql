-- Open tickets, most urgent first, with the mention they answer.
SELECT t.id, t.priority, t.status, t.brand, t.reason, t.reach, t.opened_at, t.due_at,
       m.source, m.source_name, m.url, m.title, m.text, m.author_name, m.author_handle,
       s.compound
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
LEFT JOIN mention_scores s ON s.mention_id = t.mention_id
WHERE t.status NOT IN ('resolved', 'dismissed')
ORDER BY t.priority, t.due_at, t.id;
