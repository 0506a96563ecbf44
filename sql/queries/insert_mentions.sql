-- upsert_mentions for a batch of mentions none of which is stored yet and none twice (a fresh
-- backfill): the same rows, without ON CONFLICT's per-row conflict lookups or DISTINCT ON's
-- grouping of every column (together 60% of the cost).
INSERT INTO mentions BY NAME
SELECT * FROM batch_mentions;
