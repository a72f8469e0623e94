-- idhub schema v4: MFA factors and sign-in transactions (between password and factor).
CREATE TABLE user_factors (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL,
    factor_type TEXT NOT NULL,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    last_used_step BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX user_factors_user ON user_factors(org_id, user_id);
CREATE TABLE authn_transactions (
    state_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    factor_id TEXT,
    amr TEXT NOT NULL,
    from_uri TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    expires BIGINT NOT NULL
);
