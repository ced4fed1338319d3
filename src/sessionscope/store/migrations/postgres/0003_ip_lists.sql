-- Per-tenant IP lists managed over /v1/lists; matched next to the global list files.
CREATE TABLE ip_lists (
    tenant       TEXT NOT NULL REFERENCES tenants (slug),
    name         TEXT NOT NULL,
    description  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE ip_list_entries (
    tenant    TEXT NOT NULL,
    name      TEXT NOT NULL,
    cidr      TEXT NOT NULL,
    note      TEXT,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, name, cidr),
    FOREIGN KEY (tenant, name) REFERENCES ip_lists (tenant, name)
);
