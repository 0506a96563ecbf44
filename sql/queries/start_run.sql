INSERT INTO runs VALUES ($id, $kind, $flow_run_id, $now, NULL, 'running') ON CONFLICT DO NOTHING;
