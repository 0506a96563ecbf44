-- A new sign-in session; the token itself stays with the browser.
INSERT INTO web_sessions (token_hash, user_name, created_at, expires_at)
VALUES ($token_hash, $user_name, $now, $expires_at)
ON CONFLICT DO NOTHING;
