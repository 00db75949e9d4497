-- One-time login links (登录链接) of the pages (issue "Web pages"): staff hand a volunteer
-- a printed QR code or a WeChat message; opening it once gives a session on that phone.
-- Only the SHA-256 of a link's code is stored. Times are Unix milliseconds.
CREATE TABLE login_links (
    link_hash    TEXT PRIMARY KEY,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'display')),
    community_id TEXT,
    volunteer_id TEXT,
    label        TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    -- The session (an api_tokens row) the link gave.
    session_id   TEXT
);
