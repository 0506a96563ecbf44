-- What each ticket decision of the batch does (desk_plan, a temp table read by the ticket
-- queries after it):
--   existing  its own ticket exists: re-evaluated in place (priority may rise)
--   attach    a later mention of an open ticket's thread, or by the same author within the
--             ticket's attach window: joins that ticket (target_id) instead of opening one;
--             so does one in the thread of such a mention of the same batch; a mention
--             attached before stays attached
--   open      opens its own ticket; several new decisions in one thread, or by one author
--             within the window, open one ticket (the earliest) and attach the others
--   skip      a thank-you for an author thanked within the cooldown (per brand)
-- Complaints never join a thank-you ticket; a thank-you may join any open ticket.
CREATE OR REPLACE TEMP TABLE desk_plan AS
WITH d AS (
    SELECT DISTINCT ON (b.id) b.*, m.source, m.external_id, m.parent_id, m.published_at,
           coalesce(m.thread_id, m.external_id) AS thread_key,
           author_key(m.source, m.source_name, m.author_id, m.author_handle, m.author_name)
               AS author_key,
           b.kind = 'thank' AS is_thank
    FROM batch_tickets b JOIN mentions m ON m.id = b.mention_id
),
held AS (
    SELECT t.id AS ticket_id, t.brand, t.kind, t.priority, t.opened_at, t.attach_window_s,
           x.source, x.external_id, x.published_at,
           coalesce(x.thread_id, x.external_id) AS thread_key,
           author_key(x.source, x.source_name, x.author_id, x.author_handle, x.author_name)
               AS author_key
    FROM tickets t
    JOIN ticket_mentions tm ON tm.ticket_id = t.id AND tm.relation <> 'rescue'
    JOIN mentions x ON x.id = tm.mention_id
    WHERE t.status NOT IN ('resolved', 'dismissed')
),
existing AS (
    SELECT d.id FROM d SEMI JOIN tickets t ON t.id = d.id
),
known AS (
    -- A mention linked as mere context (a calm reply) that turns risky later is judged
    -- afresh: it joins only an open ticket of a compatible kind, never a closed one. One
    -- attached as a decision (its mention_attached event) stays attached, even once closed.
    SELECT DISTINCT ON (d.id) d.id, tm.ticket_id AS target_id, tm.relation
    FROM d
    JOIN ticket_mentions tm ON tm.mention_id = d.mention_id AND tm.relation IN ('thread', 'author')
    JOIN tickets t ON t.id = tm.ticket_id AND t.brand = d.brand
    WHERE d.id NOT IN (SELECT id FROM existing)
      AND (d.is_thank OR t.kind <> 'thank')
      AND (t.status NOT IN ('resolved', 'dismissed') OR EXISTS (
          SELECT 1 FROM ticket_events e
          WHERE e.id = 'E-' || tm.ticket_id || '-attached-' || d.mention_id))
    ORDER BY d.id, tm.linked_at, tm.ticket_id
),
joins AS (
    SELECT DISTINCT ON (d.id) d.id, h.ticket_id AS target_id,
           CASE WHEN h.thread_key = d.thread_key OR d.parent_id = h.external_id
                THEN 'thread' ELSE 'author' END AS relation
    FROM d
    JOIN held h ON h.brand = d.brand AND h.source = d.source AND h.ticket_id <> d.id
        AND (d.is_thank OR h.kind <> 'thank')
        AND (h.thread_key = d.thread_key OR d.parent_id = h.external_id
             OR (d.author_key = h.author_key
                 AND abs(epoch(d.published_at) - epoch(h.published_at)) <= h.attach_window_s))
    WHERE d.id NOT IN (SELECT id FROM existing) AND d.id NOT IN (SELECT id FROM known)
    ORDER BY d.id, (h.thread_key = d.thread_key OR d.parent_id = h.external_id) DESC,
             h.priority, h.opened_at, h.ticket_id
),
chained AS (
    -- In the thread of (or a reply to) a mention of this batch that joins an open ticket:
    -- that mention is the ticket's once the batch lands, so a later batch would attach this
    -- one too. The same run must not open a second ticket for it.
    SELECT DISTINCT ON (d.id) d.id, dj.target_id, 'thread' AS relation
    FROM (SELECT j.target_id, t.kind AS target_kind, x.id, x.brand, x.source, x.thread_key,
                 x.external_id, x.published_at
          FROM joins j JOIN d x ON x.id = j.id JOIN tickets t ON t.id = j.target_id) dj
    JOIN d ON d.brand = dj.brand AND d.source = dj.source AND d.id <> dj.id
        AND (d.thread_key = dj.thread_key OR d.parent_id = dj.external_id)
        AND (d.is_thank OR dj.target_kind <> 'thank')
    WHERE d.id NOT IN (SELECT id FROM existing) AND d.id NOT IN (SELECT id FROM known)
      AND d.id NOT IN (SELECT id FROM joins)
    ORDER BY d.id, dj.published_at, dj.id
),
fresh AS (
    SELECT d.*, first_value(d.id) OVER (
               PARTITION BY d.brand, d.is_thank, d.source, d.thread_key
               ORDER BY d.published_at, d.id) AS thread_leader
    FROM d
    WHERE d.id NOT IN (SELECT id FROM existing) AND d.id NOT IN (SELECT id FROM known)
      AND d.id NOT IN (SELECT id FROM joins) AND d.id NOT IN (SELECT id FROM chained)
),
leaders AS (
    SELECT f.id, f.published_at, f.attach_window_s,
           first_value(f.id) OVER w AS author_leader,
           first_value(f.published_at) OVER w AS leader_published_at
    FROM fresh f
    WHERE f.id = f.thread_leader
    WINDOW w AS (PARTITION BY f.brand, f.is_thank, coalesce(f.author_key, f.id)
                 ORDER BY f.published_at, f.id)
),
grouped AS (
    SELECT f.*,
           CASE WHEN l.author_key_ok THEN l.author_leader ELSE f.thread_leader END AS target_id
    FROM fresh f
    JOIN (SELECT id, author_leader, epoch(published_at) - epoch(leader_published_at)
                 <= attach_window_s AS author_key_ok FROM leaders) l ON l.id = f.thread_leader
),
cooled AS (
    -- A thank-you already opened for the author within the cooldown, or an earlier one this
    -- batch opens (all of a batch open at the same moment: within any cooldown).
    SELECT g.id FROM grouped g
    WHERE g.is_thank AND g.id = g.target_id AND g.author_key IS NOT NULL AND (EXISTS (
        SELECT 1 FROM tickets t2
        WHERE t2.kind = 'thank' AND t2.brand = g.brand AND t2.author_key = g.author_key
          AND t2.opened_at > g.opened_at - to_seconds(coalesce(g.cooldown_s, 0)))
      OR (coalesce(g.cooldown_s, 0) > 0 AND EXISTS (
        SELECT 1 FROM grouped g2
        WHERE g2.is_thank AND g2.id = g2.target_id AND g2.brand = g.brand
          AND g2.author_key = g.author_key
          AND (g2.published_at < g.published_at
               OR (g2.published_at = g.published_at AND g2.id < g.id)))))
)
SELECT d.*,
       CASE WHEN d.id IN (SELECT id FROM existing) THEN d.id
            ELSE coalesce(k.target_id, j.target_id, c.target_id, g.target_id) END AS target_id,
       CASE WHEN d.id IN (SELECT id FROM existing) THEN 'existing'
            WHEN k.id IS NOT NULL OR j.id IS NOT NULL OR c.id IS NOT NULL THEN 'attach'
            WHEN g.target_id IN (SELECT id FROM cooled) THEN 'skip'
            WHEN g.id = g.target_id THEN 'open'
            ELSE 'attach' END AS action,
       CASE WHEN k.id IS NOT NULL THEN k.relation
            WHEN j.id IS NOT NULL THEN j.relation
            WHEN c.id IS NOT NULL THEN c.relation
            WHEN g.id IS NOT NULL AND g.id <> g.target_id THEN
                CASE WHEN g.thread_leader <> g.id THEN 'thread' ELSE 'author' END
            ELSE 'origin' END AS relation
FROM d
LEFT JOIN known k ON k.id = d.id
LEFT JOIN joins j ON j.id = d.id
LEFT JOIN chained c ON c.id = d.id
LEFT JOIN grouped g ON g.id = d.id;
