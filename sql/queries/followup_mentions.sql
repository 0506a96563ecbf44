-- The mentions of open tickets, for the hourly followup flow: everything needed to rebuild
-- each mention and re-run the pipeline on it, with its ticket's current priority. Most
-- urgent first; $limit bounds how many tickets one run re-evaluates.
SELECT t.id AS ticket_id, t.priority, t.brand,
       m.id, m.source, m.external_id, m.source_name, m.url, m.title, m.text,
       m.author_id, m.author_handle, m.author_name, m.author_url, m.author_followers,
       m.published_at, m.lang, m.likes, m.reposts, m.replies, m.score, m.views,
       m.thread_id, m.parent_id, m.is_repost, m.is_own, m.listing_ratings,
       CAST(m.raw AS VARCHAR) AS raw, s.rating
FROM tickets t
JOIN mentions m ON m.id = t.mention_id
LEFT JOIN mention_scores s ON s.mention_id = t.mention_id
WHERE t.status NOT IN ('resolved', 'dismissed')
ORDER BY t.priority, t.due_at, t.id
LIMIT $limit;
