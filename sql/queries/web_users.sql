-- Every user of the review web app, with how many sessions are live.
SELECT u.name, u.disabled, u.created_at, u.updated_at,
       count(s.token_hash) FILTER (WHERE s.expires_at > $now) AS live_sessions
FROM users u
LEFT JOIN web_sessions s ON s.user_name = u.name
GROUP BY ALL
ORDER BY u.name;
