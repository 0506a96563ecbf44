-- One row per mention and brand, with its sentiment, complaint score and reach: the table
-- most analyses start from.
CREATE OR REPLACE VIEW mention_feed AS
SELECT m.id AS mention_id, b.brand, m.source, m.source_name, m.published_at, m.url, m.title,
       m.text, m.author_handle, m.author_name, m.author_followers,
       coalesce(s.lang, m.lang) AS lang,  -- detected; the source's own tag when not scored
       m.likes, m.reposts, m.replies, m.score, m.views, m.is_repost, m.is_own,
       s.compound, s.label, s.complaint, s.is_complaint, s.complaint_reasons,
       s.rating, s.review_flag, m.listing_ratings,
       s.reach_low, s.reach_expected, s.reach_high, s.reach_method, s.reach_projected,
       b.matched_terms
FROM mentions m
JOIN mention_brands b ON b.mention_id = m.id
LEFT JOIN mention_scores s ON s.mention_id = m.id;
