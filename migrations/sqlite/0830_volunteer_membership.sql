-- Which community a volunteer belongs to now is their registration's or their last
-- move's (记录转移接续): a partial index over just those events of a stream, so the
-- look-up reads one entry however long the volunteer's history is.
CREATE INDEX events_volunteer_membership ON events (stream_id, stream_version)
    WHERE event_type IN ('VolunteerRegistered', 'VolunteerTransferred');
