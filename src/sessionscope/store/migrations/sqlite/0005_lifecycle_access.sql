-- Session lifecycle and the access model (issue 7): purge indexes, access definitions,
-- grants, and meter/credit usage with the content ids counted in the current period.
CREATE INDEX sessions_expiry ON sessions (tenant, site, expires_ms);
CREATE INDEX sessions_ended ON sessions (tenant, site, updated_ms) WHERE status IN ('released', 'revoked');
CREATE TABLE access_objects (
    tenant      TEXT NOT NULL,
    site        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    doc         TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, site, kind, id)
) WITHOUT ROWID;
CREATE TABLE access_grants (
    tenant      TEXT NOT NULL,
    site        TEXT NOT NULL,
    id          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    bundle_id   TEXT NOT NULL,
    expires_ms  BIGINT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, site, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX access_grants_by_user ON access_grants (tenant, site, user_id, bundle_id);
CREATE INDEX access_grants_by_bundle ON access_grants (tenant, site, bundle_id);
CREATE TABLE access_usage (
    tenant           TEXT NOT NULL,
    site             TEXT NOT NULL,
    source           TEXT NOT NULL,
    subject          TEXT NOT NULL,
    used             INTEGER NOT NULL,
    period_start_ms  BIGINT NOT NULL,
    period_end_ms    BIGINT,
    PRIMARY KEY (tenant, site, subject, source)
) WITHOUT ROWID;
CREATE INDEX access_usage_ended ON access_usage (period_end_ms) WHERE period_end_ms IS NOT NULL;
CREATE TABLE access_content (
    tenant           TEXT NOT NULL,
    site             TEXT NOT NULL,
    source           TEXT NOT NULL,
    subject          TEXT NOT NULL,
    period_start_ms  BIGINT NOT NULL,
    content_id       TEXT NOT NULL,
    period_end_ms    BIGINT,
    counted_ms       BIGINT NOT NULL,
    PRIMARY KEY (tenant, site, subject, source, period_start_ms, content_id)
) WITHOUT ROWID;
CREATE INDEX access_content_ended ON access_content (period_end_ms) WHERE period_end_ms IS NOT NULL;
