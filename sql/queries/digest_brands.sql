-- Digest: per brand, the mentions first seen in [$since, $until). `voice` leaves out the
-- brand's own posts (is_own): share of voice counts what others say. negative_share and
-- mean_compound are over scored mentions that are not own posts; `anonymous` counts those
-- with no author to attribute them to (left out of the NPS).
SELECT b.brand,
       count(*) AS mentions,
       count(*) FILTER (WHERE NOT m.is_own) AS voice,
       count(*) FILTER (WHERE NOT m.is_own AND s.label = 'negative') AS negative,
       count(*) FILTER (WHERE NOT m.is_own AND s.compound IS NOT NULL) AS scored,
       avg(s.compound) FILTER (WHERE NOT m.is_own) AS mean_compound,
       count(*) FILTER (WHERE NOT m.is_own AND s.is_complaint) AS complaints,
       count(*) FILTER (WHERE NOT m.is_own AND coalesce(m.author_id, m.author_handle,
                                                       m.author_name) IS NULL) AS anonymous
FROM mentions m
JOIN mention_brands b ON b.mention_id = m.id
LEFT JOIN mention_scores s ON s.mention_id = m.id
WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
GROUP BY b.brand
ORDER BY voice DESC, b.brand;
