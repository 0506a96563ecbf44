-- The rescue outcome of resolved tickets from their follow-ups: sentiment after (the latest
-- follow-up's compound), and the first follow-up that is no complaint and at least
-- rescue_min_compound positive: the customer was rescued then. A ticket with follow-ups but
-- none like that is not (yet) rescued; without follow-ups it stays unknown (NULL).
UPDATE tickets SET
    sentiment_after = f.after,
    recovered_at = f.recovered_at,
    rescued = f.recovered_at IS NOT NULL
FROM (
    SELECT tm.ticket_id,
           arg_max(s.compound, m.published_at) AS after,
           min(m.published_at) FILTER (
               WHERE s.compound >= t.rescue_min_compound
                 AND NOT coalesce(s.is_complaint, false)) AS recovered_at
    FROM ticket_mentions tm
    JOIN tickets t ON t.id = tm.ticket_id
    JOIN mentions m ON m.id = tm.mention_id
    LEFT JOIN mention_scores s ON s.mention_id = m.id
    -- only what was said after this resolution (rows linked before a reopen are not)
    WHERE tm.relation = 'rescue' AND t.status = 'resolved' AND m.published_at > t.resolved_at
    GROUP BY tm.ticket_id
) f
WHERE f.ticket_id = tickets.id
  AND (tickets.sentiment_after IS DISTINCT FROM f.after
       OR tickets.recovered_at IS DISTINCT FROM f.recovered_at
       OR tickets.rescued IS DISTINCT FROM (f.recovered_at IS NOT NULL));

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT 'E-' || t.id || '-rescued-' || epoch(t.resolved_at)::BIGINT, t.id, t.recovered_at,
       'earful', 'rescued',
       json_object('sentiment_before', t.sentiment_before, 'sentiment_after', t.sentiment_after,
                   'hours_to_recovery',
                   round((epoch(t.recovered_at) - epoch(o.published_at)) / 3600, 1))
FROM tickets t JOIN mentions o ON o.id = t.mention_id
WHERE t.rescued AND t.status = 'resolved'
ON CONFLICT DO NOTHING;
