-- Expand: the new column, nullable, so the code that only knows old_preference keeps working.
ALTER TABLE preferences ADD COLUMN IF NOT EXISTS new_preference text;
