-- The tickets table's columns: the VIP flag comes with the desk's migration (0004).
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = 'tickets';
