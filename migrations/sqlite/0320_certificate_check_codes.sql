-- The check code of a certificate: a short random code printed on it and required by
-- the public check, so that sequential numbers (TB-2026-000001, …) cannot be walked
-- to read holders' masked names and hours. Written in the certificate's transaction;
-- certificates issued before this migration get a code now (shown when reprinted).
CREATE TABLE certificate_check_codes (
    number TEXT PRIMARY KEY REFERENCES certificates (number),
    code   TEXT NOT NULL
);
INSERT INTO certificate_check_codes (number, code)
    SELECT number, upper(hex(randomblob(4))) FROM certificates;

CREATE TRIGGER certificate_check_codes_are_archived_update BEFORE UPDATE ON certificate_check_codes
BEGIN SELECT RAISE(ABORT, 'certificates are archived'); END;
CREATE TRIGGER certificate_check_codes_are_archived_delete BEFORE DELETE ON certificate_check_codes
BEGIN SELECT RAISE(ABORT, 'certificates are archived'); END;
