-- Notifications go through an outbox: every notification is a row here before anything is
-- sent, so a crash or a rerun never sends twice and every failure stays visible.
-- The id is the idempotency key, derived from (channel, source_kind, source_id): enqueueing
-- the same ticket event or alert again is a no-op (ON CONFLICT DO NOTHING).

CREATE TABLE outbox (
    id               VARCHAR PRIMARY KEY,      -- 'N-' + hash of (channel, source_kind, source_id)
    channel          VARCHAR NOT NULL,         -- configured channel name ([notifications.channels.X])
    sink             VARCHAR NOT NULL,         -- slack | webhook | email | github | zendesk
    source_kind      VARCHAR NOT NULL,         -- ticket_event | alert | digest
    source_id        VARCHAR NOT NULL,         -- ticket_events.id, alerts.id, or channel@hour for a digest
    kind             VARCHAR NOT NULL,         -- opened, priority_raised, escalated, breached, volume, ..., digest
    ticket_id        VARCHAR,                  -- the ticket it is about (NULL for alerts and digests)
    brand            VARCHAR,
    priority         VARCHAR,                  -- P1..P4 for ticket events
    vip              BOOLEAN NOT NULL DEFAULT false,  -- never held back by the channel's budget
    title            VARCHAR NOT NULL,
    payload          JSON NOT NULL,            -- what the sinks render (no secrets, ever)
    status           VARCHAR NOT NULL,         -- pending | sending | sent | held | digested | failed | uncertain
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ,              -- when a pending row is due (backoff after a failure)
    last_attempt_at  TIMESTAMPTZ,
    last_error       VARCHAR,                  -- scrubbed of secrets
    sending_at       TIMESTAMPTZ,              -- claimed for sending (a crash leaves it here)
    sent_at          TIMESTAMPTZ,
    external_id      VARCHAR,                  -- GitHub issue number, Zendesk ticket id, Message-ID
    external_url     VARCHAR,
    held_hour        TIMESTAMPTZ,              -- the budget hour a held row waits in
    digest_id        VARCHAR,                  -- the digest row that carried a held row
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
