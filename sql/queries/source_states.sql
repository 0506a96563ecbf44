SELECT * FROM source_state ORDER BY source_key;
