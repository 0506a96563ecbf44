-- Add a user, or set a new password (and enable again) for an existing one.
INSERT INTO users (name, password_hash, created_at, updated_at, disabled)
VALUES ($name, $password_hash, $now, $now, false)
ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
                                 updated_at = excluded.updated_at,
                                 disabled = false;
