INSERT INTO mention_scores BY NAME
SELECT DISTINCT ON (mention_id) * FROM batch_scores
ON CONFLICT (mention_id) DO UPDATE SET
    compound = excluded.compound,
    positive = excluded.positive,
    neutral = excluded.neutral,
    negative = excluded.negative,
    label = excluded.label,
    reach_low = excluded.reach_low,
    reach_expected = excluded.reach_expected,
    reach_high = excluded.reach_high,
    reach_method = excluded.reach_method,
    scored_at = excluded.scored_at,
    lang = excluded.lang,
    sentiment_model = excluded.sentiment_model,
    complaint = excluded.complaint,
    is_complaint = excluded.is_complaint,
    complaint_reasons = excluded.complaint_reasons,
    complaint_model = excluded.complaint_model,
    reach_per_hour = excluded.reach_per_hour,
    reach_projected = excluded.reach_projected,
    rating = coalesce(excluded.rating, mention_scores.rating),
    review_flag = excluded.review_flag;
