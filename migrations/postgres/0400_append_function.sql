-- One batch of the group commit in one round trip (see ledger/src/store/postgres.rs).
--
-- The writer reads the facts it checks a batch against (head, stream versions, stored
-- event ids and command keys) without a lock, plans the batch, and then calls this
-- function as a statement of its own, so the insert and the commit cost one round trip.
-- Under the append lock the function compares the head with the one the plan was made
-- on: the log only grows under that lock, so an unchanged head means no event was
-- appended since the facts were read and the plan still holds. A moved head (another
-- process appended) returns FALSE and writes nothing; the writer then plans again under
-- the lock. Each statement of a PL/pgSQL function takes a new snapshot, so the head read
-- here is the one committed before the lock was granted.
CREATE FUNCTION timebank_append(
    expected_head     BIGINT,
    positions         BIGINT[],
    streams           TEXT[],
    versions          BIGINT[],
    ids               UUID[],
    types             TEXT[],
    schema_versions   INTEGER[],
    payloads          TEXT[],
    metadatas         TEXT[],
    communities       UUID[],
    recorded          TIMESTAMPTZ,
    keys              TEXT[],
    commands          TEXT[],
    results           TEXT[],
    command_positions BIGINT[],
    new_head          BIGINT
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    head BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(499865374535);
    SELECT COALESCE(MAX(position), 0) INTO head FROM events;
    IF head <> expected_head THEN
        RETURN FALSE;
    END IF;
    INSERT INTO events (position, stream_id, stream_version, event_id, event_type,
                        schema_version, payload, metadata, community_id, recorded_at)
    SELECT u.p, u.s, u.v, u.e, u.t, u.sv, u.pl::jsonb, u.m::jsonb, u.c, recorded
    FROM UNNEST(positions, streams, versions, ids, types, schema_versions, payloads,
                metadatas, communities) AS u(p, s, v, e, t, sv, pl, m, c);
    INSERT INTO command_log (idempotency_key, command, result, position, recorded_at)
    SELECT u.k, u.c::jsonb, u.r::jsonb, u.p, recorded
    FROM UNNEST(keys, commands, results, command_positions) AS u(k, c, r, p);
    PERFORM pg_notify('timebank_events', new_head::text);
    RETURN TRUE;
END;
$$;
