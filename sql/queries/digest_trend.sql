-- Digest: volume and sentiment over time of the mentions first seen in [$since, $until),
-- bucketed by publication time ($bucket: 'hour' or 'day', UTC) from $chart_start on.
-- dimension 'brand': one row per bucket × brand (a mention naming two brands counts for
-- each); dimension 'source': per bucket × configured source, each mention once.
-- mean_compound is over the mentions whose language VADER scores (NULL when none).
WITH found AS (
    SELECT m.id, m.source_name, b.brand, s.compound, s.label,
           date_trunc($bucket, m.published_at AT TIME ZONE 'UTC') AS bucket
    FROM mentions m
    JOIN mention_brands b ON b.mention_id = m.id
    LEFT JOIN mention_scores s ON s.mention_id = m.id
    WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
      AND m.published_at >= $chart_start
)
SELECT 'brand' AS dimension, bucket, brand AS name, count(*) AS mentions,
       count(*) FILTER (WHERE label = 'negative') AS negative,
       avg(compound) AS mean_compound
FROM found GROUP BY bucket, brand
UNION ALL
SELECT 'source' AS dimension, bucket, source_name AS name, count(*) AS mentions,
       count(*) FILTER (WHERE label = 'negative') AS negative,
       avg(compound) AS mean_compound
FROM (SELECT DISTINCT id, source_name, compound, label, bucket FROM found)
GROUP BY bucket, source_name
ORDER BY dimension, bucket, name;
