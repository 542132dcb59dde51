-- 003_ispmail_quota.sql - ISPmail editions before Debian 10 "buster" had
-- no virtual_users.quota column; facteur reads it (bytes, 0 = unlimited,
-- as Dovecot's quota_rule does). Adding it with the default 0 changes
-- nothing for Postfix or an older Dovecot, which never select it. On the
-- current schema the column exists and this is a no-op.

ALTER TABLE virtual_users ADD COLUMN IF NOT EXISTS
    quota int(11) NOT NULL DEFAULT 0;
