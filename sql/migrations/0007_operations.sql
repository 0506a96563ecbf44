-- Operational alerts about sources (failing, silent) share the alerts table with spike
-- alerts: brand is empty for them, source_name says which source.
ALTER TABLE alerts ALTER COLUMN brand DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN source_name VARCHAR;     -- set for source_failing / source_silent
