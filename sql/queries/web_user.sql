-- One user of the review web app by name (for signing in).
SELECT name, password_hash, disabled, created_at, updated_at
FROM users
WHERE name = $name;
