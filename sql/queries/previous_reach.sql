-- Expected reach and when it was scored, for the velocity of re-polled mentions ($ids).
SELECT mention_id, reach_expected, scored_at FROM mention_scores WHERE mention_id = ANY($ids);
