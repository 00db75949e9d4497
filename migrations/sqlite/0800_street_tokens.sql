-- Street offices (街道) log in too (issue "Streets and districts"): a token's role may be
-- 'street', bound to a street. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with its rows.
CREATE TABLE api_tokens_next (
    token_id     TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'display', 'street')),
    community_id TEXT,
    volunteer_id TEXT,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    street_id    TEXT
);
INSERT INTO api_tokens_next (token_id, token_hash, role, community_id, volunteer_id, label, created_at, revoked_at)
    SELECT token_id, token_hash, role, community_id, volunteer_id, label, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_next RENAME TO api_tokens;
