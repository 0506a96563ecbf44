-- Each configured source's polling state: when it was last checked, when it is due next,
-- its consecutive failures and last error.
CREATE OR REPLACE VIEW source_health AS
SELECT source_key, checked_at, next_check_at, error_count, last_error,
       rate_limit_remaining, rate_limit_reset,
       (SELECT max(r.started_at) FROM run_sources rs JOIN runs r ON r.id = rs.run_id
         WHERE rs.source_key = st.source_key AND rs.new_mentions > 0) AS last_new_mention_run
FROM source_state st;
