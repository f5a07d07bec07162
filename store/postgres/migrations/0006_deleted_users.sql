-- Accounts deleted through the directory API, restorable until purged
-- (Graph's deletedItems, 30 days).
CREATE TABLE deleted_users (
    id         text PRIMARY KEY,
    deleted_at timestamptz NOT NULL,
    data       jsonb NOT NULL
);
CREATE INDEX deleted_users_deleted_at ON deleted_users (deleted_at);
