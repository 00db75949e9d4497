-- Street offices (街道) log in too (issue "Streets and districts"): a token's role may be
-- 'street', bound to a street.
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'staff', 'volunteer', 'display', 'street'));
ALTER TABLE api_tokens ADD COLUMN street_id UUID;
