-- Pending rows whose time has come, most important first: VIP, then priority (alerts and
-- digests rank with P2), then the oldest.
SELECT * FROM outbox
WHERE status = 'pending' AND coalesce(next_attempt_at, created_at) <= $now
ORDER BY vip DESC, coalesce(priority, 'P2'), created_at, id;
