-- Tickets the desk marked VIP, among the given ones (needs tickets.vip, migration 0004).
SELECT id FROM tickets WHERE vip AND id IN (SELECT unnest($ids::VARCHAR[]));
