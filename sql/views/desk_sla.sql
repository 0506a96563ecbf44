-- SLA arithmetic shared by the ticket views and the desk's queries (macros, re-created with
-- the views, so they can change without a migration).
-- The deadline a ticket works against: first response until someone answered, then
-- resolution; none once resolved or dismissed.
CREATE OR REPLACE MACRO ticket_active_due(status, first_response_at, due_at, resolution_due_at)
AS CASE WHEN status IN ('resolved', 'dismissed') THEN NULL
        WHEN first_response_at IS NULL THEN due_at
        ELSE coalesce(resolution_due_at, due_at) END;

-- 'breached' once past the deadline; 'at_risk' when less than `share` of the time from
-- opening to the deadline is left; else 'ok'.
CREATE OR REPLACE MACRO sla_state(active_due, opened_at, as_of, share)
AS CASE WHEN active_due IS NULL THEN 'ok'
        WHEN as_of > active_due THEN 'breached'
        WHEN epoch(active_due) - epoch(as_of)
             < share * (epoch(active_due) - epoch(opened_at)) THEN 'at_risk'
        ELSE 'ok' END;
