-- Smart lockout reserves an attempt before the password is hashed: pending
-- counts the attempts being verified (released when each finishes), and
-- pending_until ends a reservation whose process died (a lease).
ALTER TABLE lockouts ADD COLUMN pending integer NOT NULL DEFAULT 0;
ALTER TABLE lockouts ADD COLUMN pending_until timestamptz;
