-- idhub schema v2: browser sessions and one-time session tokens. Same in both backends.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    cookie_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    amr TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    idle_timeout BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    client_ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(org_id, user_id);
CREATE INDEX sessions_expires ON sessions(expires);
CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL,
    amr TEXT NOT NULL,
    expires BIGINT NOT NULL
);
