-- The rescue follow-ups already stored for one resolved ticket ($id; NULL: every resolved
-- ticket, the hourly rescue check): the author's later
-- mentions of the brand on the same platform, from its resolution to the end of its rescue
-- window. One attached to the ticket while it was open ("author") but published after the
-- resolution is what the customer said next, so it becomes a rescue follow-up.
INSERT INTO ticket_mentions
SELECT t.id, m.id, 'rescue', t.resolved_at
FROM tickets t
JOIN mentions o ON o.id = t.mention_id
JOIN mentions m ON m.source = o.source AND m.id <> t.mention_id AND NOT m.is_repost
    AND m.published_at > t.resolved_at AND m.published_at <= t.rescue_until
    AND author_key(m.source, m.source_name, m.author_id, m.author_handle, m.author_name)
        = t.author_key
JOIN mention_brands mb ON mb.mention_id = m.id AND mb.brand = t.brand
WHERE ($id IS NULL OR t.id = $id) AND t.status = 'resolved' AND t.rescue_until IS NOT NULL
ON CONFLICT (ticket_id, mention_id) DO UPDATE SET relation = 'rescue'
    WHERE ticket_mentions.relation = 'author';
