-- The review web app: the people who may sign in, and their sign-in sessions.
-- No password and no session token is stored: only a salted scrypt hash of the password and
-- the SHA-256 of each session token, so a copy of the file (analysts read it) lets nobody in.

CREATE TABLE users (
    name             VARCHAR PRIMARY KEY,      -- sign-in name; the actor on ticket events
    password_hash    VARCHAR NOT NULL,         -- scrypt$N$r$p$salt$hash (base64), never the password
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,     -- last password change
    disabled         BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE web_sessions (
    token_hash       VARCHAR PRIMARY KEY,      -- hex SHA-256 of the cookie's random token
    user_name        VARCHAR NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL      -- absolute: a session is never extended
);
