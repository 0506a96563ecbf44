-- Existing tickets are left alone: a rerun never reopens, duplicates or re-dates a ticket.
INSERT INTO tickets (id, mention_id, brand, kind, status, priority, risk, reason, reach,
                     assignee, opened_at, due_at, updated_at)
SELECT DISTINCT ON (id)
    id, mention_id, brand, kind, 'open', priority, risk, reason, reach,
    NULL, opened_at, due_at, opened_at
FROM batch_tickets
ON CONFLICT DO NOTHING;
