-- idhub schema v5: the durable job queue (outbox) for provisioning and other background
-- work. A job is written in the transaction of the change that causes it.
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    batch_id TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(queue, status, run_after, seq);
CREATE INDEX jobs_order ON jobs(ordering_key, seq);
CREATE INDEX jobs_org_status ON jobs(org_id, status, seq);
CREATE INDEX jobs_batch ON jobs(batch_id, status);
