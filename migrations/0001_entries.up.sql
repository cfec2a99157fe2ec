-- One table for every kind of entry: components, demos, metadata, blocks (all their files in
-- one value), listings, directory trees and plain keys. Expired rows stay: they are the stale
-- copies served when GitHub fails; maintenance deletes them past l2.stale_limit.
CREATE TABLE entries (
    key          TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    framework    TEXT,
    name         TEXT,
    value        BYTEA NOT NULL,
    size         BIGINT NOT NULL,
    -- value + key + row overhead: what the l2.max_bytes budget counts
    stored_bytes BIGINT NOT NULL,
    blob_sha     TEXT,
    etag         TEXT,
    source_url   TEXT,
    -- Unix milliseconds
    created_at   BIGINT NOT NULL,
    fetched_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_access  BIGINT NOT NULL,
    access_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX entries_kind_framework ON entries (kind, framework);
CREATE INDEX entries_last_access ON entries (last_access);
CREATE INDEX entries_expires_at ON entries (expires_at) WHERE expires_at IS NOT NULL;
