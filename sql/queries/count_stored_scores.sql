-- How many of the batch's mentions have a score stored already (0: insert_scores will do).
SELECT count(*) FROM batch_scores b SEMI JOIN mention_scores s ON s.mention_id = b.mention_id;
