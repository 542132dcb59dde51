-- 002_alias_source_index.sql - ISPmail has no index on
-- virtual_aliases.source, yet every recipient lookup (Postfix's and ours)
-- searches by it. Adding an index changes no data and no behaviour.

CREATE INDEX IF NOT EXISTS facteur_virtual_aliases_source
    ON virtual_aliases (source);
