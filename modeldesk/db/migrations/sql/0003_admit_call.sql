-- modeldesk_admit_call(provider_id): may a call of this provider start now?
-- Created by migration 0003 (a change to it belongs in a new file and a new
-- migration, so this one stays what 0003 installed). See that migration's
-- docstring for the rules: enabled, not held, a free lane of the sliding 60 s
-- requests-per-minute window, and a turn in the provider's waiting line.
CREATE FUNCTION modeldesk_admit_call(p_provider_id bigint)
RETURNS TABLE (wait_seconds double precision, reason text)
LANGUAGE plpgsql AS $$
DECLARE
    v_enabled boolean;
    v_limit integer;
    v_held_until timestamptz;
    v_now timestamptz;
    v_lanes integer;
    v_lane integer;
    v_oldest timestamptz;
    v_turn timestamptz;
BEGIN
    SELECT p.is_enabled, GREATEST(p.requests_per_minute, 1) INTO v_enabled, v_limit
    FROM llm_providers p WHERE p.id = p_provider_id;
    IF NOT FOUND OR NOT v_enabled THEN
        RETURN QUERY SELECT NULL::double precision, 'disabled'::text;
        RETURN;
    END IF;

    -- One admission at a time per provider, fleet-wide; released at commit.
    PERFORM pg_advisory_xact_lock(1835295852, (p_provider_id % 2147483647)::integer);
    v_now := clock_timestamp();

    SELECT h.held_until INTO v_held_until FROM provider_holds h
    WHERE h.provider_id = p_provider_id;
    IF v_held_until > v_now THEN
        RETURN QUERY SELECT EXTRACT(EPOCH FROM v_held_until - v_now)::double precision,
                            'held'::text;
        RETURN;
    END IF;

    SELECT COALESCE(MAX(s.lane) + 1, 0) INTO v_lanes FROM provider_request_starts s
    WHERE s.provider_id = p_provider_id;
    IF v_lanes > v_limit THEN
        -- The limit went down: keep the most recent starts, one per remaining lane,
        -- so the starts already in the window still count against the new limit.
        DELETE FROM provider_request_starts s
        WHERE s.provider_id = p_provider_id
          AND s.lane NOT IN (
              SELECT k.lane FROM provider_request_starts k
              WHERE k.provider_id = p_provider_id
              ORDER BY k.started_at DESC, k.lane
              LIMIT v_limit);
        -- Renumber to 0..limit-1; lifting every lane above the old range first
        -- keeps the primary key free of collisions on the way.
        UPDATE provider_request_starts s SET lane = s.lane + v_lanes
        WHERE s.provider_id = p_provider_id;
        UPDATE provider_request_starts s SET lane = r.position - 1
        FROM (
            SELECT k.lane, ROW_NUMBER() OVER (ORDER BY k.lane) AS position
            FROM provider_request_starts k WHERE k.provider_id = p_provider_id
        ) r
        WHERE s.provider_id = p_provider_id AND s.lane = r.lane;
        v_lanes := v_limit;
    END IF;

    SELECT s.lane, s.started_at INTO v_lane, v_oldest FROM provider_request_starts s
    WHERE s.provider_id = p_provider_id
    ORDER BY s.started_at, s.lane
    LIMIT 1;
    IF FOUND AND v_oldest <= v_now - interval '60 seconds' THEN
        UPDATE provider_request_starts SET started_at = v_now
        WHERE provider_id = p_provider_id AND lane = v_lane;
    ELSIF v_lanes < v_limit THEN
        INSERT INTO provider_request_starts (provider_id, lane, started_at)
        VALUES (p_provider_id, v_lanes, v_now);
    ELSE
        -- The next turn: when the oldest lane frees, or after the last waiter,
        -- but never more than two minutes ahead (waiters whose jobs were since
        -- discarded must not keep the line long).
        SELECT GREATEST(
                   v_oldest + interval '60 seconds',
                   LEAST(COALESCE(MAX(w.next_turn_at), '-infinity'),
                         v_now + interval '120 seconds'))
        INTO v_turn FROM provider_waiting_lines w WHERE w.provider_id = p_provider_id;
        INSERT INTO provider_waiting_lines AS line (provider_id, next_turn_at)
        VALUES (p_provider_id, v_turn + make_interval(secs => 60.0 / v_limit))
        ON CONFLICT (provider_id) DO UPDATE SET next_turn_at = EXCLUDED.next_turn_at;
        RETURN QUERY SELECT EXTRACT(EPOCH FROM v_turn - v_now)::double precision,
                            'rate_window'::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 0::double precision, 'admitted'::text;
END;
$$;
