-- Certificates (志愿服务记录证明, issue "Reports"): numbered, registered and archived.
-- Numbers are sequential per year of issue (China Standard Time): TB-2026-000001.
-- `facts` holds what the certificate states, computed at log position `position`;
-- it holds no personal data (the name and ID number are looked up when printed).
CREATE TABLE certificate_counters (
    year     INTEGER PRIMARY KEY,
    last_seq BIGINT  NOT NULL
);

CREATE TABLE certificates (
    number       TEXT        PRIMARY KEY,
    year         INTEGER     NOT NULL,
    seq          BIGINT      NOT NULL,
    volunteer_id UUID        NOT NULL,
    community_id UUID        NOT NULL,
    position     BIGINT      NOT NULL,
    facts        JSONB       NOT NULL,
    issuer       JSONB       NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL,
    issued_by    UUID        NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX certificates_by_volunteer ON certificates (volunteer_id, issued_at);

-- The registry is an archive: a certificate is never changed or removed.
CREATE FUNCTION certificates_are_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'certificates are archived';
END;
$$;
CREATE TRIGGER certificates_are_archived BEFORE UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_are_archived();
CREATE TRIGGER certificates_are_archived_truncate BEFORE TRUNCATE ON certificates
    FOR EACH STATEMENT EXECUTE FUNCTION certificates_are_archived();
