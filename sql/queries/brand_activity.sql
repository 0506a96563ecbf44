-- Per brand: mentions (and negative ones) in the last hour, in the baseline before it, the
-- hours of history the baseline covers, and the brand's last alert of each kind.
-- Parameters: $now, $window_start, $baseline_start.
WITH per_mention AS (
    SELECT b.brand, m.published_at, s.label = 'negative' AS negative
    FROM mentions m
    JOIN mention_brands b ON b.mention_id = m.id
    JOIN mention_scores s ON s.mention_id = m.id
    WHERE NOT m.is_repost AND NOT m.is_own AND m.published_at < $now
),
history AS (
    SELECT brand, min(published_at) AS first_seen FROM per_mention GROUP BY brand
)
SELECT
    h.brand,
    count(*) FILTER (WHERE p.published_at >= $window_start) AS window_mentions,
    count(*) FILTER (WHERE p.published_at >= $window_start AND p.negative) AS window_negative,
    count(*) FILTER (WHERE p.published_at >= $baseline_start
                       AND p.published_at < $window_start) AS baseline_mentions,
    count(*) FILTER (WHERE p.published_at >= $baseline_start
                       AND p.published_at < $window_start AND p.negative) AS baseline_negative,
    greatest(0, epoch($window_start) - epoch(greatest(h.first_seen, $baseline_start))) / 3600.0
        AS baseline_hours,
    (SELECT max(raised_at) FROM alerts a WHERE a.brand = h.brand AND a.kind = 'volume')
        AS last_volume_alert,
    (SELECT max(raised_at) FROM alerts a WHERE a.brand = h.brand AND a.kind = 'negative_share')
        AS last_negative_alert
FROM history h JOIN per_mention p ON p.brand = h.brand
GROUP BY h.brand, h.first_seen
ORDER BY h.brand;
