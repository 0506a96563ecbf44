-- upsert_scores for a batch whose mentions have no score stored yet: the same rows, without
-- ON CONFLICT's per-row conflict lookups.
INSERT INTO mention_scores BY NAME
SELECT DISTINCT ON (mention_id) * FROM batch_scores;
