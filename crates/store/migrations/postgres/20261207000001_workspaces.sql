-- The workspace of the vendor's product an install landed in (a team, a project), when the
-- vendor names workspaces: its id, and its name as shown to the user.
ALTER TABLE connections ADD COLUMN workspace_id TEXT;
ALTER TABLE connections ADD COLUMN workspace_name TEXT;
CREATE INDEX connections_workspace ON connections (app, workspace_id)
    WHERE workspace_id IS NOT NULL;
