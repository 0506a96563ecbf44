-- Tickets this batch opens (desk_plan_tickets decided which decisions open one).
SELECT count(DISTINCT id) FROM desk_plan WHERE action = 'open';
