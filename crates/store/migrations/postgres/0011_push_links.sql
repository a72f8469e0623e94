-- idhub schema v11: the hub user each spoke user was pushed as, per provisioned app,
-- whether the user reaches the app directly or through a group (a group assignment has
-- no app_users row to keep it in). The push finds the hub user by this id, so a login
-- change in the spoke renames the hub user instead of creating another.
CREATE TABLE app_push_links (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, user_id)
);
