-- One row per mention and brand, with its sentiment and reach: the table most analyses
-- start from.
CREATE OR REPLACE VIEW mention_feed AS
SELECT m.id AS mention_id, b.brand, m.source, m.source_name, m.published_at, m.url, m.title,
       m.text, m.author_handle, m.author_name, m.author_followers, m.lang,
       m.likes, m.reposts, m.replies, m.score, m.views, m.is_repost, m.is_own,
       s.compound, s.label, s.reach_expected, s.reach_method, b.matched_terms
FROM mentions m
JOIN mention_brands b ON b.mention_id = m.id
LEFT JOIN mention_scores s ON s.mention_id = m.id;
