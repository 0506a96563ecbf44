-- upsert_scores for a batch whose mentions are all new (each once) and have no score stored
-- yet: the same rows, without ON CONFLICT's per-row conflict lookups or DISTINCT ON.
INSERT INTO mention_scores BY NAME
SELECT * FROM batch_scores;
