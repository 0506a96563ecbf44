-- Remove a user (their sessions go with web_delete_user_sessions).
DELETE FROM users WHERE name = $name;
