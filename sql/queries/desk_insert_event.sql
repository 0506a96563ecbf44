-- Append one event to a ticket's log. The id is derived from its content, so retrying the
-- same action logs it once.
INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
VALUES ($id, $ticket_id, $occurred_at, $actor, $action, CAST($detail AS JSON))
ON CONFLICT DO NOTHING;
