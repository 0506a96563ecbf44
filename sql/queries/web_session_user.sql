-- The signed-in user behind a session token hash, if the session is live and the user enabled.
SELECT s.user_name, s.expires_at
FROM web_sessions s
JOIN users u ON u.name = s.user_name
WHERE s.token_hash = $token_hash AND s.expires_at > $now AND NOT u.disabled;
