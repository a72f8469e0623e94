-- idhub schema v3: applications and their assignments to users and groups.
CREATE TABLE apps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    sign_on_mode TEXT NOT NULL,
    settings TEXT NOT NULL,
    username_template TEXT NOT NULL,
    visibility TEXT NOT NULL,
    accessibility TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX apps_org ON apps(org_id, seq);
CREATE TABLE app_users (
    org_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    username TEXT,
    external_id TEXT,
    profile TEXT NOT NULL,
    sync_state TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    last_sync BIGINT,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_users_user ON app_users(org_id, user_id);
CREATE TABLE app_groups (
    org_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    priority BIGINT NOT NULL,
    profile TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_groups_group ON app_groups(org_id, group_id);
