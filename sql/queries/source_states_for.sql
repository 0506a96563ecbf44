-- The polling state of the given sources ($keys), in sql/rows.py STATE_FIELDS order.
SELECT source_key, etag, last_modified, cursor, checked_at, next_check_at, error_count,
       last_error, rate_limit_remaining, rate_limit_reset
FROM source_state
WHERE source_key = ANY($keys);
