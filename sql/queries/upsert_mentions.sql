-- A re-poll updates what changes (engagement, follower counts, edits) and keeps when the
-- mention was first seen and by which source.
INSERT INTO mentions BY NAME
SELECT DISTINCT ON (id) * FROM batch_mentions
ON CONFLICT (id) DO UPDATE SET
    url = excluded.url,
    title = excluded.title,
    text = excluded.text,
    author_followers = coalesce(excluded.author_followers, mentions.author_followers),
    likes = coalesce(excluded.likes, mentions.likes),
    reposts = coalesce(excluded.reposts, mentions.reposts),
    replies = coalesce(excluded.replies, mentions.replies),
    score = coalesce(excluded.score, mentions.score),
    views = coalesce(excluded.views, mentions.views),
    listing_ratings = coalesce(excluded.listing_ratings, mentions.listing_ratings),
    raw = excluded.raw,
    last_seen_at = excluded.last_seen_at;
