-- idhub schema v6: provisioning connections of apps (the Org2Org API integration).
CREATE TABLE app_connections (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    base_url TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    status TEXT NOT NULL,
    features TEXT NOT NULL,
    last_test BIGINT,
    last_test_result TEXT,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (app_id)
);
CREATE INDEX app_connections_org ON app_connections(org_id);
