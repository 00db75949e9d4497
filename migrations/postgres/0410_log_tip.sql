-- The log's tip: the token of the batch that wrote the head (see ledger/src/store/writer.rs).
--
-- A writer plans a batch in memory on what it knows of the log and on the batches it
-- still has in flight, and sends it before those have committed. A head alone cannot
-- tell whether the log holds exactly what the plan counted on (another process, or a
-- batch planned again, may have written the same number of events), so every batch
-- writes a fresh token here, and the next one is written only if the head and the token
-- are the ones it was planned on. A missing row reads as the nil token.
CREATE TABLE log_tip (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    token    UUID    NOT NULL
);
INSERT INTO log_tip (token) VALUES (gen_random_uuid());

DROP FUNCTION timebank_append(BIGINT, BIGINT[], TEXT[], BIGINT[], UUID[], TEXT[], INTEGER[],
                              TEXT[], TEXT[], UUID[], TIMESTAMPTZ, TEXT[], TEXT[], TEXT[],
                              BIGINT[], BIGINT);

-- One batch of the group commit in one round trip. Under the append lock the function
-- compares the head and the tip's token with the ones the batch was planned on: the log
-- and the tip only change under that lock, so both unchanged means nothing was written
-- since and the plan still holds; it then writes the batch and returns 1. Otherwise it
-- writes nothing and returns 2 if the batch it was planned after has not been written
-- yet (the head is below the one planned on, or the tip still has the token that batch
-- was planned on: this one got the lock first, and the writer waits for that one and
-- tries again), or 0 (the writer plans again under the lock). Each statement of a
-- PL/pgSQL function takes a new snapshot, so what it reads here was committed before
-- the lock was granted.
CREATE FUNCTION timebank_append(
    expected_head     BIGINT,
    expected_token    UUID,
    after_token       UUID,
    new_token         UUID,
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
) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    head BIGINT;
    tip  UUID;
BEGIN
    PERFORM pg_advisory_xact_lock(499865374535);
    SELECT COALESCE(MAX(position), 0) INTO head FROM events;
    SELECT COALESCE((SELECT token FROM log_tip), '00000000-0000-0000-0000-000000000000')
      INTO tip;
    IF head < expected_head OR tip = after_token THEN
        RETURN 2;
    END IF;
    IF head <> expected_head OR tip <> expected_token THEN
        RETURN 0;
    END IF;
    INSERT INTO events (position, stream_id, stream_version, event_id, event_type,
                        schema_version, payload, metadata, community_id, recorded_at)
    SELECT u.p, u.s, u.v, u.e, u.t, u.sv, u.pl::jsonb, u.m::jsonb, u.c, recorded
    FROM UNNEST(positions, streams, versions, ids, types, schema_versions, payloads,
                metadatas, communities) AS u(p, s, v, e, t, sv, pl, m, c);
    INSERT INTO command_log (idempotency_key, command, result, position, recorded_at)
    SELECT u.k, u.c::jsonb, u.r::jsonb, u.p, recorded
    FROM UNNEST(keys, commands, results, command_positions) AS u(k, c, r, p);
    INSERT INTO log_tip (token) VALUES (new_token)
        ON CONFLICT (only_row) DO UPDATE SET token = EXCLUDED.token;
    PERFORM pg_notify('timebank_events', new_head::text);
    RETURN 1;
END;
$$;
