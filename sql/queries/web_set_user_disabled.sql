-- Disable (sign-in refused, sessions ended by the caller) or enable a user, keeping them.
UPDATE users SET disabled = $disabled, updated_at = $now WHERE name = $name;
