INSERT OR REPLACE INTO run_sources
    (run_id, source_key, status, fetched, matched, new_mentions, new_tickets, errors, message,
     next_check_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
