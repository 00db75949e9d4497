-- Certificates (志愿服务记录证明, issue "Reports"): numbered, registered and archived.
-- Numbers are sequential per year of issue (China Standard Time): TB-2026-000001.
-- `facts` holds what the certificate states, computed at log position `position`;
-- it holds no personal data (the name and ID number are looked up when printed).
CREATE TABLE certificate_counters (
    year     INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE certificates (
    number       TEXT    PRIMARY KEY,
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    volunteer_id TEXT    NOT NULL,
    community_id TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    facts        TEXT    NOT NULL,
    issuer       TEXT    NOT NULL,
    issued_at    TEXT    NOT NULL,
    issued_by    TEXT    NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX certificates_by_volunteer ON certificates (volunteer_id, issued_at);

-- The registry is an archive: a certificate is never changed or removed.
CREATE TRIGGER certificates_are_archived_update BEFORE UPDATE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates are archived'); END;
CREATE TRIGGER certificates_are_archived_delete BEFORE DELETE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates are archived'); END;
