-- After the batch's tickets are written (desk_plan_tickets, insert_tickets): link the
-- mention that opened a ticket ('origin'), and the decisions attached to an open ticket
-- ('thread' / 'author', each logged as a 'mention_attached' event, also when the mention was
-- linked before as context: it is logged once it would have opened a ticket, and the event
-- is what keeps it attached once the ticket closes, desk_plan_tickets). Its id names the
-- ticket and mention, so a rerun logs nothing twice. Only for a batch with ticket
-- decisions; desk_link_context runs for every batch.
CREATE OR REPLACE TEMP TABLE desk_links AS
SELECT target_id AS ticket_id, mention_id, relation, opened_at AS linked_at, action, priority,
       reason
FROM desk_plan
WHERE action IN ('open', 'attach');

INSERT INTO ticket_events (id, ticket_id, occurred_at, actor, action, detail)
SELECT DISTINCT ON (l.ticket_id, l.mention_id)
       'E-' || l.ticket_id || '-attached-' || l.mention_id, l.ticket_id, l.linked_at, 'earful',
       'mention_attached',
       json_object('mention_id', l.mention_id, 'relation', l.relation, 'priority', l.priority,
                   'reason', l.reason)
FROM desk_links l
WHERE l.action = 'attach'
ON CONFLICT DO NOTHING;

INSERT INTO ticket_mentions
SELECT DISTINCT ON (ticket_id, mention_id) ticket_id, mention_id, relation, linked_at
FROM desk_links
ON CONFLICT DO NOTHING;

DROP TABLE desk_links;
DROP TABLE desk_plan;
