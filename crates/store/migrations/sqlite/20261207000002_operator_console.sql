-- Operators of the console: people who run the gateway, apart from the vendor's accounts.
-- A password operator has an argon2id hash and, once enrolled, a TOTP secret sealed under the
-- vault's key (totp_key_id) with the operator's id as associated data; an operator who signs in
-- through the company's OpenID Connect provider has neither.
CREATE TABLE operators (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    totp_key_id TEXT,
    totp_secret BLOB,
    totp_enrolled_at INTEGER,
    -- The last TOTP time step used, so that a code is taken once.
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Recovery codes, stored as their SHA-256; a used code is deleted.
CREATE TABLE operator_recovery_codes (
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (operator_id, code_hash)
);

-- Console sessions, found by the SHA-256 of the cookie's key; the state is a JSON object.
CREATE TABLE operator_sessions (
    key_hash TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

-- What operators did, and every failed sign-in: who (an email, or what was typed), what, on
-- what, how it ended, from where.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    client TEXT NOT NULL
);

-- The install funnel's steps and failed refreshes, counted by each replica and added here every few seconds: steps
-- that write no event (an install started, one that failed and why) survive restarts and add
-- up over every replica. One row per app, provider, step, reason and minute.
CREATE TABLE activity_counts (
    app TEXT NOT NULL,
    provider TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT NOT NULL,
    minute INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (app, provider, step, reason, minute)
);
CREATE INDEX activity_counts_by_minute ON activity_counts (minute);
-- Events by time, for the console's overview.
CREATE INDEX events_by_time ON events (created_at);
-- When an operator last queued a failed event again: its give-up age counts from then, while
-- created_at keeps saying when it was written.
ALTER TABLE events ADD COLUMN requeued_at INTEGER;
