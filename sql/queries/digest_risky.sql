-- Digest: the riskiest mentions of your own brands (not $competitors) first seen in
-- [$since, $until): complaints or negative mentions, not reposts or the brand's own posts,
-- ranked by the ticket rule's risk = strength × √(min(reach / $threshold, 100)), strength
-- being the complaint likelihood or the negativity (-compound), whichever is larger. A
-- ticketed mention keeps its ticket's risk. At most $limit rows.
WITH candidates AS (
    SELECT m.id AS mention_id, b.brand, m.source_name, m.published_at, m.url, m.title,
           m.text, m.author_handle, m.author_name, s.compound, s.complaint,
           greatest(s.reach_expected, coalesce(s.reach_projected, 0)) AS reach,
           greatest(coalesce(s.complaint, 0), -least(coalesce(s.compound, 0), 0)) AS strength,
           t.id AS ticket_id, t.priority, t.status, t.risk AS ticket_risk
    FROM mentions m
    JOIN mention_brands b ON b.mention_id = m.id
    JOIN mention_scores s ON s.mention_id = m.id
    LEFT JOIN tickets t ON t.mention_id = m.id AND t.brand = b.brand
    WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
      AND NOT m.is_own AND NOT m.is_repost
      AND NOT list_contains(CAST($competitors AS VARCHAR[]), b.brand)
      AND (s.is_complaint OR s.label = 'negative' OR t.id IS NOT NULL)
)
SELECT *, coalesce(ticket_risk,
                   strength * sqrt(least(reach / greatest($threshold, 1), 100.0))) AS risk
FROM candidates
ORDER BY risk DESC, reach DESC, mention_id, brand
LIMIT $limit;
