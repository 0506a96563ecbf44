-- Reviews: the listing's audience signal, and the flag for a review whose stars and words
-- disagree (4-5 stars with negative text: a person should look, no ticket opens).
ALTER TABLE mentions ADD COLUMN listing_ratings BIGINT;          -- ratings the app/business has
ALTER TABLE mention_scores ADD COLUMN review_flag VARCHAR;      -- e.g. 'high rating, negative text'
