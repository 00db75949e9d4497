-- The append-only event log. Positions are assigned under a transaction-scoped advisory
-- lock, so they become visible in commit order with no holes (see ledger/src/store/postgres.rs).
CREATE TABLE events (
    position       BIGINT      PRIMARY KEY,
    stream_id      TEXT        NOT NULL,
    stream_version BIGINT      NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL,
    payload        JSONB       NOT NULL,
    metadata       JSONB       NOT NULL,
    community_id   UUID,
    recorded_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_by_community ON events (community_id, position);

-- Nothing is ever updated or deleted: mistakes are corrected by new events.
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_are_append_only_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- The result of every command, keyed by its client-generated idempotency key,
-- written in the same transaction as the command's events.
CREATE TABLE command_log (
    idempotency_key TEXT        PRIMARY KEY,
    command         JSONB       NOT NULL,
    result          JSONB       NOT NULL,
    position        BIGINT      NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL
);

-- Personal data stays out of the log; erasing a person deletes the row, never an event.
CREATE TABLE persons (
    volunteer_id UUID        PRIMARY KEY,
    name         TEXT        NOT NULL,
    phone        TEXT,
    id_number    TEXT,
    updated_at   TIMESTAMPTZ NOT NULL
);
