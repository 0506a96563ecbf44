INSERT INTO mention_brands BY NAME
SELECT DISTINCT ON (mention_id, brand) * FROM batch_brands
ON CONFLICT DO NOTHING;
