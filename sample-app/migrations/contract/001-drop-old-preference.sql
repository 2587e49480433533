-- Contract: only once no code that reads old_preference can take traffic again.
ALTER TABLE preferences DROP COLUMN IF EXISTS old_preference;
