-- A failed attempt: back to 'pending' with its next time (backoff), or 'failed' for good.
UPDATE outbox SET status = $status, last_error = $error, next_attempt_at = $next_attempt_at,
                  updated_at = $now
WHERE id = $id AND status = 'sending';
