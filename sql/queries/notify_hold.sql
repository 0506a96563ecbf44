-- Over the channel's budget: wait for the hour's digest.
UPDATE outbox SET status = 'held', held_hour = $hour, updated_at = $now
WHERE status = 'pending' AND id IN (SELECT unnest($ids::VARCHAR[]));
