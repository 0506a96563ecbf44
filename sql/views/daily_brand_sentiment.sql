-- Per brand and UTC day: volume, share of negative mentions and mean compound.
CREATE OR REPLACE VIEW daily_brand_sentiment AS
SELECT b.brand, CAST(date_trunc('day', m.published_at AT TIME ZONE 'UTC') AS DATE) AS day,
       count(*) AS mentions,
       avg(CASE WHEN s.label = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share,
       avg(s.compound) AS mean_compound
FROM mentions m
JOIN mention_brands b ON b.mention_id = m.id
JOIN mention_scores s ON s.mention_id = m.id
GROUP BY ALL;
