-- upsert_mentions for a batch of mentions none of which is stored yet (a fresh backfill):
-- the same rows, without ON CONFLICT's per-row conflict lookups (half the cost).
INSERT INTO mentions BY NAME
SELECT DISTINCT ON (id) * FROM batch_mentions;
