-- idhub schema v7: SAML signing keys of apps (private keys sealed; rotation keeps old ones).
CREATE TABLE app_keys (
    kid TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    key_sealed TEXT NOT NULL,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX app_keys_app ON app_keys(org_id, app_id, created);
