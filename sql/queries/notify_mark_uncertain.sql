-- Interrupted while sending to a receiver that cannot be asked (Slack, webhook, e-mail):
-- never sent again, to be sure nothing arrives twice; a person can check the channel.
UPDATE outbox SET status = 'uncertain', last_error = $error, next_attempt_at = NULL,
                  updated_at = $now
WHERE id = $id AND status = 'sending';
