-- Fixed-window counters for the identity role's limits (attempts per
-- address, codes per email, secret guesses per client). Rows expire with
-- their window and are swept.
CREATE TABLE throttles (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
