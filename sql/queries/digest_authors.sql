-- Digest, social NPS: each author's mean VADER compound over their mentions first seen in
-- [$since, $until), per brand (brand NULL: all of your own brands together, each mention
-- once). Leaves out the brands' own posts, reposts (the words are not the reposter's),
-- unscored languages and mentions with no author. An author is who the desk's author_key
-- says (migration 0004), spelled out here so the digest reads any schema: the platform and
-- the author's id, else @handle (lower case); a bare display name only within one source.
WITH per_mention AS (
    SELECT m.id, b.brand, s.compound,
           list_contains(CAST($competitors AS VARCHAR[]), b.brand) AS competitor,
           CASE WHEN m.author_id IS NOT NULL THEN m.source || ':' || m.author_id
                WHEN m.author_handle IS NOT NULL
                    THEN m.source || ':' || lower(ltrim(m.author_handle, '@'))
                ELSE m.source_name || '~' || lower(m.author_name) END AS author
    FROM mentions m
    JOIN mention_brands b ON b.mention_id = m.id
    JOIN mention_scores s ON s.mention_id = m.id
    WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
      AND NOT m.is_own AND NOT m.is_repost AND s.compound IS NOT NULL
      AND coalesce(m.author_id, m.author_handle, m.author_name) IS NOT NULL
)
SELECT brand, author, count(*) AS mentions, avg(compound) AS mean_compound
FROM per_mention
GROUP BY brand, author
UNION ALL
SELECT NULL AS brand, author, count(*) AS mentions, avg(compound) AS mean_compound
FROM (SELECT DISTINCT id, author, compound FROM per_mention WHERE NOT competitor)
GROUP BY author
ORDER BY brand NULLS FIRST, author;
