-- The table as the app's first version created it: one preference per user, in old_preference.
CREATE TABLE IF NOT EXISTS preferences (
  user_id text PRIMARY KEY,
  old_preference text
);
