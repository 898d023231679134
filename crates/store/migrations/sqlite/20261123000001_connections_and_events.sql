-- Connections: one per (app, provider, marketplace account). Tokens are ciphertexts sealed under
-- token_key_id with the connection id as associated data.
CREATE TABLE connections (
    id TEXT PRIMARY KEY NOT NULL,
    app TEXT NOT NULL,
    provider TEXT NOT NULL,
    marketplace_key TEXT NOT NULL,
    account TEXT,
    status TEXT NOT NULL,
    scopes TEXT NOT NULL,
    metadata TEXT NOT NULL,
    token_key_id TEXT,
    access_token BLOB,
    refresh_token BLOB,
    expires_at INTEGER,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (app, provider, marketplace_key)
);
CREATE INDEX connections_by_account ON connections (account);
CREATE INDEX connections_by_token_key ON connections (token_key_id);

-- The event outbox, written in the same transaction as the change an event describes.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT
);
CREATE INDEX events_pending ON events (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX events_by_ordering_key ON events (ordering_key, seq);
