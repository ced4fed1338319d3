-- Judgement (issue 5): copied verdict columns, the IP prefix, and feedback labels.
ALTER TABLE sessions ADD COLUMN ip_prefix TEXT;
ALTER TABLE sessions ADD COLUMN decision TEXT;
ALTER TABLE sessions ADD COLUMN is_bot BOOLEAN;
CREATE INDEX sessions_fake_by_prefix ON sessions (tenant, ip_prefix, created_ms DESC) WHERE decision = 'fake';
CREATE TABLE feedback (
    tenant              TEXT NOT NULL,
    session_id          TEXT NOT NULL,
    site                TEXT NOT NULL,
    label               TEXT NOT NULL,
    note                TEXT,
    ip                  TEXT,
    ip_prefix           TEXT,
    session_created_ms  BIGINT NOT NULL,
    labelled_ms         BIGINT NOT NULL,
    PRIMARY KEY (tenant, session_id)
);
CREATE INDEX feedback_fraud_by_prefix ON feedback (tenant, ip_prefix, session_created_ms DESC) WHERE label = 'fraud';
CREATE INDEX feedback_by_site ON feedback (tenant, site, labelled_ms);
