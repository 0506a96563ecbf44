-- The batch's new mentions, its distinct mentions and its rows: when all three are equal the
-- batch is all new with no id twice, and is inserted without the upsert's conflict handling
-- or de-duplication (insert_mentions, insert_scores, insert_brands_new).
SELECT count(DISTINCT b.id) FILTER (WHERE m.id IS NULL), count(DISTINCT b.id), count(*)
FROM batch_mentions b LEFT JOIN mentions m ON m.id = b.id;
