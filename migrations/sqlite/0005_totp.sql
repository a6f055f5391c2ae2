-- The optional second factor (TOTP, RFC 6238) of a user: `bsc user totp NAME`.

-- The shared secret, base32 (RFC 4648, no padding); NULL when not enrolled.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
-- The time step (Unix time / 30) of the last code accepted, so that a code
-- cannot be used twice.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
