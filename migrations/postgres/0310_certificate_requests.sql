-- Idempotency of certificate issuing through the API: a retried request (same key)
-- gets the certificate the first one issued instead of a second number. `request`
-- holds what was asked (volunteer and issuer), to refuse a key reused for another
-- request. Written in the same transaction as the certificate.
CREATE TABLE certificate_requests (
    idempotency_key TEXT PRIMARY KEY,
    request         TEXT NOT NULL,
    number          TEXT NOT NULL REFERENCES certificates (number)
);
