-- After the batch's tickets are written, for every batch: link its other new mentions of
-- the brand in an open ticket's thread, or by its author within the attach window
-- (context, linked without an event), and the author's mentions after a complaint was
-- resolved, within its rescue window ('rescue'); then desk_update_rescue recomputes the
-- rescue outcome. A mention with a ticket decision of its own in this batch
-- (batch_tickets: desk_link_plan linked it) is not context of another ticket.
CREATE OR REPLACE TEMP TABLE desk_links AS
WITH batch AS (
    -- only the columns read below: the CTE is materialised, and text and raw are most of a row
    SELECT m.id, m.source, m.parent_id, m.published_at, m.last_seen_at,
           coalesce(m.thread_id, m.external_id) AS thread_key,
           author_key(m.source, m.source_name, m.author_id, m.author_handle, m.author_name)
               AS author_key
    FROM mentions m SEMI JOIN batch_mentions b ON b.id = m.id
    WHERE NOT m.is_repost
),
held AS (
    SELECT t.id AS ticket_id, t.brand, t.attach_window_s, x.source, x.external_id,
           x.published_at, coalesce(x.thread_id, x.external_id) AS thread_key,
           author_key(x.source, x.source_name, x.author_id, x.author_handle, x.author_name)
               AS author_key
    FROM tickets t
    JOIN ticket_mentions tm ON tm.ticket_id = t.id AND tm.relation <> 'rescue'
    JOIN mentions x ON x.id = tm.mention_id
    WHERE t.status NOT IN ('resolved', 'dismissed')
)
(SELECT DISTINCT ON (h.ticket_id, m.id) h.ticket_id, m.id AS mention_id,
       CASE WHEN h.thread_key = m.thread_key OR m.parent_id = h.external_id
            THEN 'thread' ELSE 'author' END AS relation,
       m.last_seen_at AS linked_at
FROM batch m
JOIN mention_brands mb ON mb.mention_id = m.id
JOIN held h ON h.brand = mb.brand AND h.source = m.source
    AND (h.thread_key = m.thread_key OR m.parent_id = h.external_id
         OR (h.author_key = m.author_key
             AND abs(epoch(m.published_at) - epoch(h.published_at)) <= h.attach_window_s))
-- a mention with its own ticket for the brand is that ticket's, not context of another
WHERE NOT EXISTS (SELECT 1 FROM tickets o WHERE o.mention_id = m.id AND o.brand = mb.brand)
  AND NOT EXISTS (SELECT 1 FROM batch_tickets p WHERE p.mention_id = m.id AND p.brand = mb.brand)
ORDER BY h.ticket_id, m.id, relation DESC)
UNION ALL BY NAME
(SELECT DISTINCT ON (t.id, m.id) t.id AS ticket_id, m.id AS mention_id, 'rescue' AS relation,
       m.last_seen_at AS linked_at
FROM batch m
JOIN mention_brands mb ON mb.mention_id = m.id
JOIN tickets t ON t.status = 'resolved' AND t.rescue_until IS NOT NULL AND t.brand = mb.brand
    AND t.author_key = m.author_key AND m.id <> t.mention_id
    AND m.published_at > t.resolved_at AND m.published_at <= t.rescue_until);

INSERT INTO ticket_mentions
SELECT DISTINCT ON (ticket_id, mention_id) ticket_id, mention_id, relation, linked_at
FROM desk_links
ON CONFLICT DO NOTHING;

DROP TABLE desk_links;
