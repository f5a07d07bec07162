-- 0001: the initial schema. Times are INTEGER Unix microseconds (UTC), the
-- same precision as PostgreSQL's timestamptz, so both backends round-trip
-- identical values; optional times are NULL when zero.

CREATE TABLE users (
    id                        TEXT PRIMARY KEY,
    email                     TEXT NOT NULL DEFAULT '', -- lower-cased on write
    display_name              TEXT NOT NULL DEFAULT '',
    given_name                TEXT NOT NULL DEFAULT '',
    surname                   TEXT NOT NULL DEFAULT '',
    identities                TEXT NOT NULL DEFAULT '[]', -- JSON
    password_hash             TEXT NOT NULL DEFAULT '',
    attributes                TEXT NOT NULL DEFAULT '{}', -- JSON
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    refresh_tokens_valid_from INTEGER
);
-- Federated-only users may have no email, so the uniqueness is partial.
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email <> '';
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE transactions (
    id         TEXT PRIMARY KEY,
    data       BLOB,
    expires_at INTEGER NOT NULL
);
CREATE INDEX transactions_expires ON transactions (expires_at);

CREATE TABLE codes (
    hash       TEXT PRIMARY KEY,
    data       BLOB,
    expires_at INTEGER NOT NULL
);
CREATE INDEX codes_expires ON codes (expires_at);

-- A family is the chain of refresh tokens from one sign-in. current_seq
-- names the one token that may be rotated; every other token of the family
-- is kept (until the family expires) so presenting it is detected as reuse.
CREATE TABLE refresh_families (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL DEFAULT '', -- no FK: client-only families have none
    client_id   TEXT NOT NULL DEFAULT '',
    data        BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0,
    current_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (family_id, seq)
);

CREATE TABLE lockouts (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL DEFAULT 0,
    lockouts         INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,
    last_failed_hash TEXT NOT NULL DEFAULT ''
);

CREATE TABLE verifications (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL DEFAULT '',
    code_hash  TEXT NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX verifications_expires ON verifications (expires_at);

CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    private    BLOB,
    public     BLOB,
    not_before INTEGER NOT NULL,
    retired_at INTEGER,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);
