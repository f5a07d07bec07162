-- 0001: the initial schema; the same tables as store/sqlite's 0001 in the
-- PostgreSQL dialect.

CREATE TABLE users (
    id                        text PRIMARY KEY,
    email                     text NOT NULL DEFAULT '', -- lower-cased on write
    display_name              text NOT NULL DEFAULT '',
    given_name                text NOT NULL DEFAULT '',
    surname                   text NOT NULL DEFAULT '',
    identities                jsonb NOT NULL DEFAULT '[]',
    password_hash             text NOT NULL DEFAULT '',
    attributes                jsonb NOT NULL DEFAULT '{}',
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    refresh_tokens_valid_from timestamptz
);
-- Federated-only users may have no email, so the uniqueness is partial.
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email <> '';
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
    id_hash    text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE transactions (
    id         text PRIMARY KEY,
    data       bytea,
    expires_at timestamptz NOT NULL
);
CREATE INDEX transactions_expires ON transactions (expires_at);

CREATE TABLE codes (
    hash       text PRIMARY KEY,
    data       bytea,
    expires_at timestamptz NOT NULL
);
CREATE INDEX codes_expires ON codes (expires_at);

-- A family is the chain of refresh tokens from one sign-in. current_seq
-- names the one token that may be rotated; every other token of the family
-- is kept (until the family expires) so presenting it is detected as reuse.
CREATE TABLE refresh_families (
    id          text PRIMARY KEY,
    user_id     text NOT NULL DEFAULT '', -- no FK: client-only families have none
    client_id   text NOT NULL DEFAULT '',
    data        bytea,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked     boolean NOT NULL DEFAULT false,
    current_seq bigint NOT NULL DEFAULT 0
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    hash       text PRIMARY KEY,
    family_id  text NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    expires_at timestamptz NOT NULL,
    UNIQUE (family_id, seq)
);

CREATE TABLE lockouts (
    key              text PRIMARY KEY,
    failures         integer NOT NULL DEFAULT 0,
    lockouts         integer NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    last_failed_hash text NOT NULL DEFAULT ''
);

CREATE TABLE verifications (
    id         text PRIMARY KEY,
    email      text NOT NULL DEFAULT '',
    code_hash  text NOT NULL DEFAULT '',
    attempts   integer NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL
);
CREATE INDEX verifications_expires ON verifications (expires_at);

CREATE TABLE signing_keys (
    id         text PRIMARY KEY,
    algorithm  text NOT NULL,
    private    bytea,
    public     bytea,
    not_before timestamptz NOT NULL,
    retired_at timestamptz,
    expires_at timestamptz,
    created_at timestamptz NOT NULL
);
