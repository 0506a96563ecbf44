-- Digest: time to first response as the desk records it: tickets.first_response_at (set by
-- the first recorded reply, or by resolving a ticket that had none; acknowledging,
-- assigning or a note is not a first response) less opened_at. Counts the first responses
-- made in [$since, $until), dismissed tickets left out as in the desk's SLA figures
-- (desk_sla_figures.sql, the same median): per priority, and overall (priority NULL).
-- Seconds.
SELECT CASE WHEN grouping(priority) = 1 THEN NULL ELSE priority END AS priority,
       count(*) AS responses,
       median(epoch(first_response_at) - epoch(opened_at)) AS median_seconds
FROM tickets
WHERE first_response_at >= $since AND first_response_at < $until
  AND status <> 'dismissed'
GROUP BY GROUPING SETS ((priority), ())
ORDER BY priority NULLS FIRST;
