-- Fixed-window counters for the identity role's limits (attempts per
-- address, codes per email, secret guesses per client). Rows expire with
-- their window and are swept.
CREATE TABLE throttles (
    key        text PRIMARY KEY,
    count      integer NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX throttles_expires_at ON throttles (expires_at);
