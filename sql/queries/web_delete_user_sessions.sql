-- Sign a user out everywhere.
DELETE FROM web_sessions WHERE user_name = $name;
