-- 023_list_public: whether a list is shown on the preference page (/p/TOKEN),
-- where a subscriber joins or leaves it. A list that is not public is still
-- left by "unsubscribe from everything" there, and by the /u/ link.
ALTER TABLE lists ADD COLUMN public boolean NOT NULL DEFAULT true;
