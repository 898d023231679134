-- Set while an uninstalled connection keeps its sealed tokens only to revoke them at the
-- provider (which was down when the vendor disconnected it): when to try again.
ALTER TABLE connections ADD COLUMN revoke_retry_at BIGINT;
CREATE INDEX connections_revoke_due ON connections (revoke_retry_at)
    WHERE revoke_retry_at IS NOT NULL;
-- The background refresher looks for active connections by expiry.
CREATE INDEX connections_expiring ON connections (expires_at) WHERE status = 'active';
