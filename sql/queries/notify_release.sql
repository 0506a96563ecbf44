-- An interrupted send that the receiver confirms never arrived: send it again now.
UPDATE outbox SET status = 'pending', next_attempt_at = $now, updated_at = $now
WHERE id = $id AND status = 'sending';
