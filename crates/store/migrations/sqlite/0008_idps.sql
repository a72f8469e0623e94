-- idhub schema v8: inbound identity providers, their trusted certificates, account
-- links, the assertion replay store and outstanding AuthnRequests.
CREATE TABLE idps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX idps_org ON idps(org_id, seq);
CREATE UNIQUE INDEX idps_name ON idps(org_id, name);
CREATE TABLE idp_keys (
    kid TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    cert_der TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX idp_keys_org ON idp_keys(org_id, created);
CREATE TABLE idp_links (
    org_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (org_id, idp_id, user_id)
);
CREATE UNIQUE INDEX idp_links_external ON idp_links(org_id, idp_id, external_id);
CREATE INDEX idp_links_user ON idp_links(org_id, user_id);
CREATE TABLE saml_replay (
    org_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    expires BIGINT NOT NULL,
    PRIMARY KEY (org_id, idp_id, assertion_id)
);
CREATE INDEX saml_replay_expires ON saml_replay(expires);
CREATE TABLE saml_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    relay_state TEXT,
    expires BIGINT NOT NULL
);
CREATE INDEX saml_requests_expires ON saml_requests(expires);
CREATE TABLE idp_routing_rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    priority BIGINT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX idp_routing_rules_org ON idp_routing_rules(org_id, priority);
