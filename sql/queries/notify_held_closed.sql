-- Notifications the budget held during an hour that is now over: each channel's hour becomes
-- one digest.
SELECT * FROM outbox
WHERE status = 'held' AND held_hour < $hour
ORDER BY channel, held_hour, created_at, id;
