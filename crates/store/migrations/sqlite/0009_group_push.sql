-- idhub schema v9: Push Groups of provisioned apps. A rule pushes every group whose name
-- starts with its text; a mapping links one spoke group to one hub group (the hub's id
-- once the first push ran) with the state of its last push.
CREATE TABLE group_push_rules (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    name_starts_with TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE INDEX group_push_rules_app ON group_push_rules(org_id, app_id);
CREATE TABLE group_push (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    rule_id TEXT,
    target_group_id TEXT,
    status TEXT NOT NULL,
    last_push BIGINT,
    last_error TEXT,
    created BIGINT NOT NULL,
    UNIQUE (app_id, group_id)
);
CREATE INDEX group_push_group ON group_push(org_id, group_id);
