-- `activity-codes`: the key of activities' rotating check-in codes (签到码). A code is an
-- HMAC of the activity and the current period under this key, so that it cannot be
-- worked out from the log, and the organiser's screen and the server agree on it
-- without storing one per period.
INSERT INTO deployment_keys (name, key) VALUES ('activity-codes', lower(hex(randomblob(32))));
