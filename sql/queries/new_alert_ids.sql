-- The alerts of the batch not stored yet (same id: same subject, kind and episode).
SELECT b.id FROM batch_alerts b ANTI JOIN alerts a ON a.id = b.id;
