-- `earful notify status`: the outbox per channel and status, and the rows a person may need
-- to look at (not sent: pending, held, failed, uncertain, sending), newest first.
SELECT channel, sink, status, kind, ticket_id, brand, priority, title, attempts,
       next_attempt_at, last_error, created_at
FROM outbox
WHERE $all OR status NOT IN ('sent', 'digested')
ORDER BY created_at DESC, id
LIMIT $limit;
