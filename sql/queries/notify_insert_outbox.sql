-- New notifications from the batch; a key already in the outbox (same channel and event)
-- is left as it is, whatever its state: enqueueing again never sends again.
INSERT INTO outbox BY NAME
SELECT * FROM batch_outbox
ON CONFLICT DO NOTHING;
