-- Forget sessions that have expired (run at each sign-in).
DELETE FROM web_sessions WHERE expires_at <= $now;
