-- Which node of a cluster owns a sitting (docs/cluster.md). One row per sitting ever
-- taken; a release only expires the row, so `epoch` (the fencing token every group
-- commit of the sitting checks) keeps growing for the sitting's whole life. Used only on
-- PostgreSQL, whose `now()` is the one clock every node agrees on; a single node on
-- SQLite never writes it. SQLite accepts the TIMESTAMPTZ type name as it is.
CREATE TABLE sitting_leases (
    sitting_id  TEXT PRIMARY KEY REFERENCES sittings (id),
    node_id     TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    -- The lease holds while the database's now() is before this.
    expires_at  TIMESTAMPTZ NOT NULL
);
