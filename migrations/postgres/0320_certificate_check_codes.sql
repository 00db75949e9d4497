-- The check code of a certificate: a short random code printed on it and required by
-- the public check, so that sequential numbers (TB-2026-000001, …) cannot be walked
-- to read holders' masked names and hours. Written in the certificate's transaction;
-- certificates issued before this migration get a code now (shown when reprinted).
CREATE TABLE certificate_check_codes (
    number TEXT PRIMARY KEY REFERENCES certificates (number),
    code   TEXT NOT NULL
);
INSERT INTO certificate_check_codes (number, code)
    SELECT number, upper(substr(md5(gen_random_uuid()::text), 1, 8)) FROM certificates;

CREATE TRIGGER certificate_check_codes_are_archived BEFORE UPDATE OR DELETE ON certificate_check_codes
    FOR EACH ROW EXECUTE FUNCTION certificates_are_archived();
CREATE TRIGGER certificate_check_codes_are_archived_truncate BEFORE TRUNCATE ON certificate_check_codes
    FOR EACH STATEMENT EXECUTE FUNCTION certificates_are_archived();
