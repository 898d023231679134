-- Vendor accounts. Built-in accounts have an email and an argon2id password hash; external
-- accounts are the vendor's users, keyed by the `sub` of their sign-in assertions.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    email TEXT,
    name TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_builtin_email ON accounts (email) WHERE kind = 'builtin';
