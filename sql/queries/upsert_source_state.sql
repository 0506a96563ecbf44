INSERT OR REPLACE INTO source_state BY NAME SELECT * FROM batch_states;
