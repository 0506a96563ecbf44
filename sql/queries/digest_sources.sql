-- Digest: per configured source, the mentions first seen in [$since, $until) (each mention
-- once, whatever the brands it names), with their sentiment.
SELECT m.source_name, min(m.source) AS kind,
       count(*) AS mentions,
       count(*) FILTER (WHERE s.label = 'negative') AS negative,
       avg(s.compound) AS mean_compound
FROM mentions m
LEFT JOIN mention_scores s ON s.mention_id = m.id
WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
  AND EXISTS (SELECT 1 FROM mention_brands b WHERE b.mention_id = m.id)
GROUP BY m.source_name
ORDER BY mentions DESC, m.source_name;
