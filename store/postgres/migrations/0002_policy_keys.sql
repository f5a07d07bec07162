-- Policy keys (B2C's key containers). A container is the set of its keys;
-- material is encrypted by the caller (AES-256-GCM under the master key).
CREATE TABLE policy_keys (
    container  text NOT NULL,
    kid        text NOT NULL,
    kty        text NOT NULL,
    key_use    text NOT NULL,
    material   bytea NOT NULL,
    public     bytea,
    origin     text NOT NULL DEFAULT '',
    not_before timestamptz,
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (container, kid)
);
