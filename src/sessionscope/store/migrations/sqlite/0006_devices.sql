-- Known devices per site, for device identity (identify.py). `bucket` groups devices whose
-- most stable fingerprint components are equal: the candidate search reads one bucket.
CREATE TABLE devices (
    tenant         TEXT NOT NULL,
    site           TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    token_digest   TEXT,
    bucket         TEXT NOT NULL,
    components     TEXT NOT NULL,
    first_seen_ms  INTEGER NOT NULL,
    last_seen_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant, site, device_id)
) WITHOUT ROWID;
CREATE INDEX devices_by_token ON devices (tenant, site, token_digest) WHERE token_digest IS NOT NULL;
CREATE INDEX devices_by_bucket ON devices (tenant, site, bucket, last_seen_ms DESC);
