-- A notification failure, on the ticket's own event log; the id is derived from the outbox
-- row and the step, so it is logged once.
INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
VALUES ($id, $ticket_id, $now, 'earful', $action, $detail)
ON CONFLICT DO NOTHING;
