-- idhub schema v12: the targets of scoped administrator roles (Okta's group and app
-- targets). A role that targets nothing covers every group or app; rows count only
-- while the user holds that role, and are cleared when the role is granted anew.
CREATE TABLE admin_role_targets (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, role, kind, target_id)
);
