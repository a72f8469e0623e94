-- idhub schema v1 (SQLite). Keep in step with ../postgres/0001_init.sql.
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    base_url TEXT NOT NULL,
    host TEXT NOT NULL UNIQUE,
    user_type_id TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    created BIGINT NOT NULL
);
CREATE TABLE users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    status TEXT NOT NULL,
    transitioning TEXT,
    login TEXT NOT NULL,
    login_key TEXT NOT NULL,
    email_key TEXT,
    first_key TEXT,
    last_key TEXT,
    profile TEXT NOT NULL,
    type_id TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    password_hash TEXT,
    recovery_question TEXT,
    recovery_answer_hash TEXT,
    admin_role TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    activated BIGINT,
    status_changed BIGINT,
    last_login BIGINT,
    last_updated BIGINT NOT NULL,
    password_changed BIGINT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_login ON users(org_id, login_key);
CREATE INDEX users_org_seq ON users(org_id, seq);
CREATE INDEX users_email ON users(org_id, email_key);
CREATE INDEX users_first ON users(org_id, first_key);
CREATE INDEX users_last ON users(org_id, last_key);
CREATE INDEX users_status ON users(org_id, status, seq);
CREATE INDEX users_updated ON users(org_id, last_updated);
CREATE TABLE user_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    last_membership_updated BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_groups_name ON user_groups(org_id, name_key);
CREATE INDEX user_groups_org_seq ON user_groups(org_id, seq);
CREATE TABLE group_members (
    org_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_seq BIGINT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_page ON group_members(group_id, user_seq);
CREATE INDEX group_members_user ON group_members(user_id);
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_window TEXT NOT NULL,
    user_id TEXT,
    role TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_used BIGINT,
    expires BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens(org_id, created);
CREATE TABLE user_schemas (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id),
    custom TEXT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE TABLE log_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    uuid TEXT NOT NULL,
    published BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    display_message TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_alternate_id TEXT NOT NULL,
    actor_display_name TEXT NOT NULL,
    target_id TEXT,
    target_alternate_id TEXT,
    target_type TEXT,
    client_ip TEXT,
    transaction_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX log_events_org_seq ON log_events(org_id, seq);
CREATE INDEX log_events_org_published ON log_events(org_id, published);
