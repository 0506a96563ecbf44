-- The batch's new mentions, and all its mentions (distinct ids): when they are equal, the
-- batch is all new and is inserted without the upsert's conflict handling (insert_mentions).
SELECT count(DISTINCT b.id) FILTER (WHERE m.id IS NULL), count(DISTINCT b.id)
FROM batch_mentions b LEFT JOIN mentions m ON m.id = b.id;
