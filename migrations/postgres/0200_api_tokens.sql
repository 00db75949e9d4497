-- API bearer tokens (issue "GraphQL API"). Only the SHA-256 of a token is stored;
-- the plaintext is shown once when it is issued.
CREATE TABLE api_tokens (
    token_id     UUID PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'display')),
    community_id UUID,
    volunteer_id UUID,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at   TIMESTAMPTZ
);
