-- insert_brands for a batch of new mentions (each once, so each brand match once, and none
-- stored: mentions and their matches are written in one transaction): the same rows, without
-- the conflict lookups or DISTINCT ON.
INSERT INTO mention_brands BY NAME
SELECT * FROM batch_brands;
