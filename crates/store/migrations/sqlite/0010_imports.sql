-- idhub schema v10: Import (hub → spoke) for provisioned apps. Each hub user an import
-- read is a candidate: PENDING with the proposed action (LINK to the matched spoke user,
-- or CREATE) until an admin confirms it; a CONFIRMED row is the link between the hub user
-- and the spoke user it was imported as (profile sourcing follows it).
CREATE TABLE import_candidates (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    hub_user_id TEXT NOT NULL,
    hub_login TEXT NOT NULL,
    profile TEXT NOT NULL,
    action TEXT NOT NULL,
    user_id TEXT,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    UNIQUE (app_id, hub_user_id)
);
CREATE INDEX import_candidates_user ON import_candidates(org_id, user_id);
