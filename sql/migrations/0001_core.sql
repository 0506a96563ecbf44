-- The core of earful: mentions and their scores, brand matches, per-source polling state,
-- response tickets with their append-only event log, and run records.
-- Timestamps are TIMESTAMPTZ (UTC); counts are BIGINT and NULL when the source does not say.

CREATE TABLE mentions (
    id               VARCHAR PRIMARY KEY,      -- derived from (source, external_id)
    source           VARCHAR NOT NULL,         -- connector kind: rss, hackernews, ...
    external_id      VARCHAR NOT NULL,         -- the source's own id (guid, post id)
    source_name      VARCHAR NOT NULL,         -- configured source that first saw it
    url              VARCHAR,
    title            VARCHAR,
    text             VARCHAR NOT NULL,         -- plain text, HTML stripped
    author_id        VARCHAR,
    author_handle    VARCHAR,
    author_name      VARCHAR,
    author_url       VARCHAR,
    author_followers BIGINT,
    published_at     TIMESTAMPTZ NOT NULL,
    lang             VARCHAR,
    likes            BIGINT,
    reposts          BIGINT,
    replies          BIGINT,
    score            BIGINT,
    views            BIGINT,
    thread_id        VARCHAR,
    parent_id        VARCHAR,
    is_repost        BOOLEAN NOT NULL DEFAULT false,
    is_own           BOOLEAN NOT NULL DEFAULT false,
    raw              JSON,                     -- the source payload, kept for re-processing
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (source, external_id)
);

CREATE TABLE mention_scores (
    mention_id       VARCHAR PRIMARY KEY,
    compound         DOUBLE NOT NULL,          -- VADER compound, -1..1
    positive         DOUBLE NOT NULL,          -- VADER proportions, 0..1
    neutral          DOUBLE NOT NULL,
    negative         DOUBLE NOT NULL,
    label            VARCHAR NOT NULL,         -- positive | neutral | negative
    reach_low        BIGINT NOT NULL,          -- people
    reach_expected   BIGINT NOT NULL,
    reach_high       BIGINT NOT NULL,
    reach_method     VARCHAR NOT NULL,
    scored_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE mention_brands (
    mention_id       VARCHAR NOT NULL,
    brand            VARCHAR NOT NULL,
    matched_terms    VARCHAR[] NOT NULL,
    PRIMARY KEY (mention_id, brand)
);

CREATE TABLE source_state (
    source_key           VARCHAR PRIMARY KEY,  -- configured source name (× query)
    etag                 VARCHAR,
    last_modified        VARCHAR,
    cursor               VARCHAR,
    checked_at           TIMESTAMPTZ,
    next_check_at        TIMESTAMPTZ,
    error_count          INTEGER NOT NULL DEFAULT 0,  -- consecutive failures
    last_error           VARCHAR,
    rate_limit_remaining INTEGER,
    rate_limit_reset     TIMESTAMPTZ
);

CREATE TABLE tickets (
    id               VARCHAR PRIMARY KEY,      -- derived from (mention, brand)
    mention_id       VARCHAR NOT NULL,
    brand            VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,         -- complaint
    status           VARCHAR NOT NULL,         -- open | acknowledged | responded | resolved | dismissed
    priority         VARCHAR NOT NULL,         -- P1 (most urgent) .. P4
    risk             DOUBLE NOT NULL,
    reason           VARCHAR NOT NULL,         -- why it was opened, in words
    reach            BIGINT NOT NULL,          -- expected reach when opened, people
    assignee         VARCHAR,
    opened_at        TIMESTAMPTZ NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,     -- first response due (priority's SLA)
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (mention_id, brand)
);

CREATE TABLE ticket_events (
    id               VARCHAR PRIMARY KEY,
    ticket_id        VARCHAR NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    actor            VARCHAR NOT NULL,         -- a user name, or 'earful' for the pipeline
    action           VARCHAR NOT NULL,         -- opened, ...
    detail           JSON
);

CREATE TABLE runs (
    id               VARCHAR PRIMARY KEY,
    kind             VARCHAR NOT NULL,         -- listen | ingest
    flow_run_id      VARCHAR,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    status           VARCHAR NOT NULL          -- running | completed | failed
);

CREATE TABLE run_sources (
    run_id           VARCHAR NOT NULL,
    source_key       VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,         -- ok | not_modified | error | skipped | deferred
    fetched          INTEGER NOT NULL,         -- items the source returned
    matched          INTEGER NOT NULL,         -- items naming a configured brand
    new_mentions     INTEGER NOT NULL,
    new_tickets      INTEGER NOT NULL,
    errors           INTEGER NOT NULL,
    message          VARCHAR,
    next_check_at    TIMESTAMPTZ,
    PRIMARY KEY (run_id, source_key)
);
