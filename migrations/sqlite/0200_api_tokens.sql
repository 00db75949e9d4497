-- API bearer tokens (issue "GraphQL API"). Only the SHA-256 of a token is stored;
-- the plaintext is shown once when it is issued.
CREATE TABLE api_tokens (
    token_id     TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'display')),
    community_id TEXT,
    volunteer_id TEXT,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
