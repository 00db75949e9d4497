-- Street offices (街道) get login links for the pages too (issue "Streets and
-- districts"): a link's role may be 'street', bound to a street.
ALTER TABLE login_links DROP CONSTRAINT IF EXISTS login_links_role_check;
ALTER TABLE login_links ADD CONSTRAINT login_links_role_check
    CHECK (role IN ('admin', 'staff', 'volunteer', 'display', 'street'));
ALTER TABLE login_links ADD COLUMN street_id TEXT;
