-- Street offices (街道) get login links for the pages too (issue "Streets and
-- districts"): a link's role may be 'street', bound to a street. SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt with its rows.
CREATE TABLE login_links_next (
    link_hash    TEXT PRIMARY KEY,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'display', 'street')),
    community_id TEXT,
    volunteer_id TEXT,
    label        TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    session_id   TEXT,
    street_id    TEXT
);
INSERT INTO login_links_next (link_hash, role, community_id, volunteer_id, label, created_by, created_at, expires_at, used_at, session_id)
    SELECT link_hash, role, community_id, volunteer_id, label, created_by, created_at, expires_at, used_at, session_id FROM login_links;
DROP TABLE login_links;
ALTER TABLE login_links_next RENAME TO login_links;
