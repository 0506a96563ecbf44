-- Rows claimed for sending longer ago than the lease: the process sending them died between
-- the send and the mark (or during the send).
SELECT * FROM outbox
WHERE status = 'sending' AND sending_at < $cutoff
ORDER BY sending_at, id;
