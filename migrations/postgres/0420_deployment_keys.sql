-- Keys of this deployment, kept beside the log and never in it. `household`: the key of
-- the pseudonyms events carry for households (a room number such as "3-2-201" tied to
-- a volunteer is personal data, so the log keeps a keyed hash of it, enough to tell
-- households apart and nothing more).
CREATE TABLE deployment_keys (
    name TEXT PRIMARY KEY,
    key  TEXT NOT NULL
);
INSERT INTO deployment_keys (name, key)
    VALUES ('household', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
