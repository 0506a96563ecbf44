UPDATE outbox SET status = 'sent', sent_at = $now, external_id = $external_id,
                  external_url = $external_url, last_error = $warning, next_attempt_at = NULL,
                  updated_at = $now
WHERE id = $id AND status = 'sending';
