-- Held rows carried by a digest (same transaction as the digest row itself).
UPDATE outbox SET status = 'digested', digest_id = $digest_id, updated_at = $now
WHERE status = 'held' AND id IN (SELECT unnest($ids::VARCHAR[]));
