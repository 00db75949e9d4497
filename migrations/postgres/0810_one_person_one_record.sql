-- One person, one record (issue "Streets and districts"): an ID number (居民身份证号, kept
-- upper-case) belongs to one volunteer record at a time, whichever community registered
-- it. The index is the backstop of two registrations racing with the same number; an
-- erased person's row is gone, and the number with it.
CREATE UNIQUE INDEX persons_id_number ON persons (id_number) WHERE id_number IS NOT NULL;
