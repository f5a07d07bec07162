-- One row per sign-in identity (emailAddress, userName, federated): an
-- identity belongs to one account, and a federated sign-in finds its
-- account by index instead of reading every user. The key is
-- type|lower(issuer)|id (the id lower-cased except for federated ones).
CREATE TABLE user_identities (
    key     text PRIMARY KEY,
    user_id text NOT NULL
);
CREATE INDEX user_identities_user ON user_identities (user_id);
-- Existing accounts; of duplicates (which nothing prevented before) the
-- first keeps the identity.
INSERT INTO user_identities (key, user_id)
SELECT DISTINCT ON (k) k, id FROM (
    SELECT (i->>'signInType') || '|' || lower(i->>'issuer') || '|' ||
           CASE WHEN i->>'signInType' = 'federated' THEN i->>'issuerAssignedId' ELSE lower(i->>'issuerAssignedId') END AS k,
           u.id, u.created_at
    FROM users u, jsonb_array_elements(u.identities::jsonb) i
) t
ORDER BY k, created_at, id
ON CONFLICT DO NOTHING;
