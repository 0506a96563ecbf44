-- One ticket with the mention it answers and that mention's sentiment: the state a lifecycle
-- action starts from (read inside the action's own transaction).
SELECT t.*, s.compound AS mention_compound,
       m.source, m.source_name, m.url, m.title, m.text, m.author_handle, m.author_name,
       m.published_at
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
LEFT JOIN mention_scores s ON s.mention_id = t.mention_id
WHERE t.id = $id;
