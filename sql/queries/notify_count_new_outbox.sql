SELECT count(*) FROM (SELECT DISTINCT id FROM batch_outbox) b ANTI JOIN outbox o ON o.id = b.id;
