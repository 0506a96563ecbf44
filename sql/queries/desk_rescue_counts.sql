-- Resolved complaints in the rescue loop at $now: still watched (window open), rescued, and
-- followed up without a rescue.
SELECT count(*) FILTER (WHERE rescue_until >= $now),
       count(*) FILTER (WHERE rescued),
       count(*) FILTER (WHERE NOT rescued)
FROM tickets
WHERE status = 'resolved' AND rescue_until IS NOT NULL;
