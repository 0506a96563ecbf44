-- What each channel's budget has spent this clock hour: notifications sent (or possibly
-- sent), digests not counted.
SELECT channel, count(*) AS spent
FROM outbox
WHERE kind <> 'digest' AND status IN ('sent', 'sending', 'uncertain')
  AND coalesce(sent_at, sending_at) >= $hour
GROUP BY channel;
