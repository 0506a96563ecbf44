-- The response desk: ticket lifecycle (acknowledge, respond, resolve with a root cause,
-- dismiss with a reason), SLA deadlines and escalation, VIP authors, replies from templates,
-- the mentions attached to a ticket (same thread, same author, rescue follow-ups) and the
-- rescue outcome. Everything a person does is also an append-only row in ticket_events.

-- Who a mention is from, comparable across mentions of one platform: the platform (source
-- kind) and the author's id, else @handle (lower case). A bare display name (feeds, news) is
-- only comparable within one configured source: "admin" on two sites is two people.
-- NULL when the source names nobody.
CREATE MACRO author_key(source, source_name, author_id, author_handle, author_name) AS
    CASE WHEN author_id IS NOT NULL THEN source || ':' || author_id
         WHEN author_handle IS NOT NULL THEN source || ':' || lower(ltrim(author_handle, '@'))
         WHEN author_name IS NOT NULL THEN source_name || '~' || lower(author_name)
         ELSE NULL END;

ALTER TABLE tickets ADD COLUMN resolution_due_at TIMESTAMPTZ;  -- resolution SLA deadline
ALTER TABLE tickets ADD COLUMN acknowledged_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN first_response_at TIMESTAMPTZ;  -- first reply (or resolution)
ALTER TABLE tickets ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN dismissed_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN root_cause VARCHAR;             -- from [desk] root_causes
ALTER TABLE tickets ADD COLUMN dismiss_reason VARCHAR;         -- not_complaint | spam | duplicate | already_handled
ALTER TABLE tickets ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;  -- index in the escalation path
ALTER TABLE tickets ADD COLUMN escalated_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN vip BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN vip_name VARCHAR;               -- which [[desk.vips]] entry matched
ALTER TABLE tickets ADD COLUMN sla_factor DOUBLE NOT NULL DEFAULT 1.0;  -- VIP SLA multiplier
ALTER TABLE tickets ADD COLUMN template_id VARCHAR;            -- template of the last reply
ALTER TABLE tickets ADD COLUMN reply VARCHAR;                  -- the last reply sent, as sent
ALTER TABLE tickets ADD COLUMN author_key VARCHAR;             -- author_key() of its mention
ALTER TABLE tickets ADD COLUMN attach_window_s BIGINT NOT NULL DEFAULT 172800;  -- same-author window
ALTER TABLE tickets ADD COLUMN rescue_until TIMESTAMPTZ;       -- follow-ups linked until then
ALTER TABLE tickets ADD COLUMN rescue_min_compound DOUBLE;     -- a follow-up this positive rescues
ALTER TABLE tickets ADD COLUMN sentiment_before DOUBLE;        -- compound of the complaint
ALTER TABLE tickets ADD COLUMN sentiment_after DOUBLE;         -- compound of the latest follow-up
ALTER TABLE tickets ADD COLUMN rescued BOOLEAN;                -- NULL until a follow-up is seen
ALTER TABLE tickets ADD COLUMN recovered_at TIMESTAMPTZ;       -- the first rescuing follow-up

-- Tickets opened before the desk: resolution deadlines from the default resolution SLA, the
-- author key from their mention.
UPDATE tickets SET resolution_due_at = opened_at + CASE priority
        WHEN 'P1' THEN INTERVAL 8 HOUR WHEN 'P2' THEN INTERVAL 24 HOUR
        WHEN 'P3' THEN INTERVAL 72 HOUR ELSE INTERVAL 7 DAY END;
UPDATE tickets SET author_key = author_key(m.source, m.source_name, m.author_id, m.author_handle,
                             m.author_name)
FROM mentions m WHERE m.id = tickets.mention_id;

-- The mentions of a ticket: the one that opened it ('origin'), later ones in the same thread
-- ('thread') or by the same author within the attach window ('author'), and the author's
-- mentions after it was resolved ('rescue').
CREATE TABLE ticket_mentions (
    ticket_id        VARCHAR NOT NULL,
    mention_id       VARCHAR NOT NULL,
    relation         VARCHAR NOT NULL,         -- origin | thread | author | rescue
    linked_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, mention_id)
);

INSERT INTO ticket_mentions
SELECT id, mention_id, 'origin', opened_at FROM tickets;
