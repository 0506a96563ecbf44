-- Claim one row for sending, committed before the request goes out: a crash after this
-- leaves it 'sending', which a later run resolves without sending twice.
UPDATE outbox SET status = 'sending', sending_at = $now, last_attempt_at = $now,
                  attempts = attempts + 1, updated_at = $now
WHERE id = $id AND status = 'pending'
RETURNING id, attempts;
