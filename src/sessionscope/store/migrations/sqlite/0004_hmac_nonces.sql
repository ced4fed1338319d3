-- ZephrHmacHttp nonces seen within the clock-skew window (auth/nonces.py), kept here when
-- Redis is not configured so that every instance on this database refuses a replay.
CREATE TABLE hmac_nonces (
    key_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX hmac_nonces_expiry ON hmac_nonces (expires_ms);
