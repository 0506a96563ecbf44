-- Mentions of the batch not stored yet (before the upsert).
SELECT count(DISTINCT b.id) FROM batch_mentions b ANTI JOIN mentions m ON m.id = b.id;
