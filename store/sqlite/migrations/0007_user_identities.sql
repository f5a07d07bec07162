-- One row per sign-in identity (emailAddress, userName, federated): an
-- identity belongs to one account, and a federated sign-in finds its
-- account by index instead of reading every user. The key is
-- type|lower(issuer)|id (the id lower-cased except for federated ones).
CREATE TABLE user_identities (
    key     TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
);
CREATE INDEX user_identities_user ON user_identities (user_id);
-- Existing accounts; of duplicates (which nothing prevented before) the
-- first keeps the identity.
INSERT OR IGNORE INTO user_identities (key, user_id)
SELECT json_extract(i.value, '$.signInType') || '|' || lower(json_extract(i.value, '$.issuer')) || '|' ||
       CASE WHEN json_extract(i.value, '$.signInType') = 'federated' THEN json_extract(i.value, '$.issuerAssignedId')
            ELSE lower(json_extract(i.value, '$.issuerAssignedId')) END,
       u.id
FROM users u, json_each(u.identities) i
ORDER BY u.created_at, u.id;
