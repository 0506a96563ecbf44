-- Recent alerts (spikes, source health) of a wanted kind. Every column is returned: the
-- operations migration adds source_name, later ones may add more.
SELECT *
FROM alerts
WHERE raised_at >= $since AND kind IN (SELECT unnest($kinds::VARCHAR[]))
ORDER BY raised_at, id;
