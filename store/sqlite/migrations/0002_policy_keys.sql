-- Policy keys (B2C's key containers). A container is the set of its keys;
-- material is encrypted by the caller (AES-256-GCM under the master key).
CREATE TABLE policy_keys (
    container  TEXT NOT NULL,
    kid        TEXT NOT NULL,
    kty        TEXT NOT NULL,
    key_use    TEXT NOT NULL,
    material   BLOB NOT NULL,
    public     BLOB,
    origin     TEXT NOT NULL DEFAULT '',
    not_before INTEGER,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (container, kid)
);
