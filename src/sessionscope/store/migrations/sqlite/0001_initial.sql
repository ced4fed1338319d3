-- Tenants, sites, keys and sessions (DESIGN section 7).
CREATE TABLE tenants (
    slug        TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL
);

CREATE TABLE sites (
    tenant      TEXT NOT NULL REFERENCES tenants (slug),
    slug        TEXT NOT NULL,
    uuid        TEXT NOT NULL UNIQUE,
    is_default  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, slug)
);

CREATE TABLE api_keys (
    id                 TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL REFERENCES tenants (slug),
    site               TEXT,
    kind               TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    origins            TEXT NOT NULL,
    prefix             TEXT NOT NULL,
    digest             TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL,
    revoked_at         TEXT,
    secret_ciphertext  TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at);

CREATE TABLE sessions (
    tenant        TEXT NOT NULL,
    id            TEXT NOT NULL,
    site          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    expires_ms    INTEGER,
    user_id       TEXT,
    device_id     TEXT,
    ip            TEXT,
    state         TEXT NOT NULL,
    status        TEXT NOT NULL,
    bot_score     REAL,
    risk_score    REAL,
    country_code  TEXT,
    doc           BLOB NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX sessions_newest ON sessions (tenant, created_ms DESC, id DESC);
CREATE INDEX sessions_site_newest ON sessions (tenant, site, created_ms DESC, id DESC);
CREATE INDEX sessions_by_user ON sessions (tenant, user_id, created_ms DESC, id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_device ON sessions (tenant, device_id, created_ms DESC, id DESC) WHERE device_id IS NOT NULL;
CREATE INDEX sessions_by_ip ON sessions (tenant, ip, created_ms DESC) WHERE ip IS NOT NULL;
