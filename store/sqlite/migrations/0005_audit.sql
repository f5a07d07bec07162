-- The audit log: security and administrative events, kept for the
-- configured retention (identity.audit.retention) and swept.
CREATE TABLE audit_events (
    id    TEXT PRIMARY KEY,
    time  INTEGER NOT NULL,
    kind  TEXT NOT NULL,
    attrs TEXT NOT NULL
);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_time ON audit_events (time);
