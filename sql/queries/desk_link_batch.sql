-- After the batch's tickets are written: link its mentions to tickets.
--   the mention that opened a ticket ('origin'), and decisions attached to an open ticket
--   ('thread' / 'author', each logged as a 'mention_attached' event);
--   other new mentions of the brand in an open ticket's thread, or by its author within the
--   attach window (context, linked without an event);
--   the author's mentions after a complaint was resolved, within its rescue window
--   ('rescue'), then the rescue outcome is recomputed (desk_update_rescue).
CREATE OR REPLACE TEMP TABLE desk_links AS
SELECT target_id AS ticket_id, mention_id, relation, opened_at AS linked_at, action, priority,
       reason
FROM desk_plan
WHERE action IN ('open', 'attach');

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT DISTINCT ON (l.ticket_id, l.mention_id)
       'E-' || l.ticket_id || '-attached-' || l.mention_id, l.ticket_id, l.linked_at, 'earful',
       'mention_attached',
       json_object('mention_id', l.mention_id, 'relation', l.relation, 'priority', l.priority,
                   'reason', l.reason)
FROM desk_links l
ANTI JOIN ticket_mentions tm ON tm.ticket_id = l.ticket_id AND tm.mention_id = l.mention_id
WHERE l.action = 'attach'
ON CONFLICT DO NOTHING;

INSERT INTO ticket_mentions
SELECT DISTINCT ON (ticket_id, mention_id) ticket_id, mention_id, relation, linked_at
FROM desk_links
ON CONFLICT DO NOTHING;

CREATE OR REPLACE TEMP TABLE desk_links AS
WITH batch AS (
    SELECT m.*, coalesce(m.thread_id, m.external_id) AS thread_key,
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
  AND NOT EXISTS (SELECT 1 FROM desk_plan p WHERE p.mention_id = m.id AND p.brand = mb.brand)
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
DROP TABLE desk_plan;
