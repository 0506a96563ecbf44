-- Existing tickets are left alone: a rerun never reopens, duplicates or re-dates a ticket.
INSERT INTO tickets (id, mention_id, brand, kind, status, priority, risk, reason, reach,
                     assignee, opened_at, due_at, updated_at, resolution_due_at, vip,
                     vip_name, sla_factor, author_key, attach_window_s)
SELECT DISTINCT ON (id)
    id, mention_id, brand, kind, 'open', priority, risk, reason, reach,
    assignee, opened_at, due_at, opened_at,
    -- decisions made without the desk's config (tests, old callers): the default resolution SLA
    coalesce(resolution_due_at, opened_at + CASE priority
        WHEN 'P1' THEN INTERVAL 8 HOUR WHEN 'P2' THEN INTERVAL 24 HOUR
        WHEN 'P3' THEN INTERVAL 72 HOUR ELSE INTERVAL 7 DAY END),
    coalesce(vip, false),
    vip_name, coalesce(sla_factor, 1.0), author_key, coalesce(attach_window_s, 172800)
FROM desk_plan
WHERE action = 'open'
ON CONFLICT DO NOTHING;
