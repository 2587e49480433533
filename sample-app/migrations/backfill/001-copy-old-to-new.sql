-- Backfill: rows written only by the old code get their value in the new column. Rows the new code wrote
-- already have it (it writes both), so they are left as they are.
UPDATE preferences SET new_preference = old_preference WHERE new_preference IS NULL AND old_preference IS NOT NULL;
