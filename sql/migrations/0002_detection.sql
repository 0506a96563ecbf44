-- Detection beyond VADER: language, complaint likelihood with its reasons, credible reach
-- with velocity, star ratings, and spike alerts.

-- A language VADER cannot read has no sentiment (NULL, label 'unknown') rather than a wrong 0.
ALTER TABLE mention_scores ALTER COLUMN compound DROP NOT NULL;
ALTER TABLE mention_scores ALTER COLUMN positive DROP NOT NULL;
ALTER TABLE mention_scores ALTER COLUMN neutral DROP NOT NULL;
ALTER TABLE mention_scores ALTER COLUMN negative DROP NOT NULL;
ALTER TABLE mention_scores ADD COLUMN lang VARCHAR;               -- detected or source-given
ALTER TABLE mention_scores ADD COLUMN sentiment_model VARCHAR;    -- vader-3.3.2+customer-v1
ALTER TABLE mention_scores ADD COLUMN complaint DOUBLE;           -- likelihood 0..1, NULL if unscored
ALTER TABLE mention_scores ADD COLUMN is_complaint BOOLEAN;
ALTER TABLE mention_scores ADD COLUMN complaint_reasons VARCHAR[]; -- the cues that fired
ALTER TABLE mention_scores ADD COLUMN complaint_model VARCHAR;    -- complaint-v1
ALTER TABLE mention_scores ADD COLUMN reach_per_hour DOUBLE;      -- growth since the last poll, people/h
ALTER TABLE mention_scores ADD COLUMN reach_projected BIGINT;     -- expected reach at the end of the projection window
ALTER TABLE mention_scores ADD COLUMN rating DOUBLE;              -- stars (1-5) for reviews

CREATE TABLE alerts (
    id               VARCHAR PRIMARY KEY,      -- derived from (brand, kind, window start)
    brand            VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,         -- volume | negative_share
    window_start     TIMESTAMPTZ NOT NULL,     -- the hour that spiked
    window_end       TIMESTAMPTZ NOT NULL,
    observed         DOUBLE NOT NULL,          -- mentions in the hour, or negative share 0..1
    baseline         DOUBLE NOT NULL,          -- mean of the baseline hours
    threshold        DOUBLE NOT NULL,          -- what observed had to reach
    message          VARCHAR NOT NULL,
    raised_at        TIMESTAMPTZ NOT NULL
);
