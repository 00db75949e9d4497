-- The append-only event log. Positions are assigned by the single writer in commit order.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    event_id       TEXT    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    community_id   TEXT,
    recorded_at    TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_by_community ON events (community_id, position);

-- Nothing is ever updated or deleted: mistakes are corrected by new events.
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- The result of every command, keyed by its client-generated idempotency key,
-- written in the same transaction as the command's events.
CREATE TABLE command_log (
    idempotency_key TEXT    PRIMARY KEY,
    command         TEXT    NOT NULL,
    result          TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    recorded_at     TEXT    NOT NULL
);

-- Personal data stays out of the log; erasing a person deletes the row, never an event.
CREATE TABLE persons (
    volunteer_id TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    phone        TEXT,
    id_number    TEXT,
    updated_at   TEXT NOT NULL
);
