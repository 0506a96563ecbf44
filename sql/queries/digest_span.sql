-- Digest: the mentions earful first saw in the period [$since, $until): how many, and the
-- publication times the charts cover: from the earliest post within $max_span of the latest
-- one (a first poll can bring years-old reviews; they are counted, not drawn) to the latest.
WITH found AS (
    SELECT m.published_at, m.is_own
    FROM mentions m
    WHERE m.first_seen_at >= $since AND m.first_seen_at < $until
      AND EXISTS (SELECT 1 FROM mention_brands b WHERE b.mention_id = m.id)
),
latest AS (SELECT max(published_at) AS last_published FROM found)
SELECT count(*) AS mentions,
       count(*) FILTER (WHERE f.is_own) AS own_posts,
       min(f.published_at) FILTER (WHERE f.published_at >= l.last_published - $max_span)
           AS first_published,
       any_value(l.last_published) AS last_published
FROM found f, latest l;
