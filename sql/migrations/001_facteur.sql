-- 001_facteur.sql - facteur's own tables. Every name starts with
-- "facteur_" so it never collides with ISPmail or PostfixAdmin tables.
-- IF NOT EXISTS everywhere: MariaDB commits DDL implicitly, so a run that
-- stopped half-way is simply run again.

-- Which migrations ran (the number in front of each file name).
CREATE TABLE IF NOT EXISTS facteur_schema_version (
	version int(11) NOT NULL,
	applied_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;

-- Accounts of the admin page; password is "{SCHEME}hash" like users'.
CREATE TABLE IF NOT EXISTS facteur_admins (
	id int(11) NOT NULL AUTO_INCREMENT,
	name varchar(100) NOT NULL,
	password varchar(255) NOT NULL,
	created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY facteur_admins_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;

-- DKIM signing keys, one row per (domain, selector).
CREATE TABLE IF NOT EXISTS facteur_dkim_keys (
	id int(11) NOT NULL AUTO_INCREMENT,
	domain varchar(255) NOT NULL,
	selector varchar(63) NOT NULL,
	algorithm varchar(32) NOT NULL DEFAULT 'rsa-sha256',
	private_key text NOT NULL,
	created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY facteur_dkim_keys_domain_selector (domain, selector)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;
