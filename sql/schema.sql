-- schema.sql - the ISPmail user directory, as the workaround.org ISPmail
-- guide (Debian 12 "bookworm" edition) creates it, so that an existing
-- Postfix + Dovecot database works with facteur unchanged.
--
-- Every statement is CREATE TABLE IF NOT EXISTS: on an existing ISPmail
-- database nothing here changes anything. Column types follow ISPmail on
-- purpose, including its limits:
--   virtual_domains.name     at most 50 characters
--   virtual_users.email      at most 100 characters, globally unique
--   virtual_users.quota      bytes, 0 = unlimited; int(11) is signed
--                            32-bit, so the largest quota is 2147483647
--                            bytes (2 GiB - 1). facteur refuses larger.
--   virtual_aliases          no unique key: several rows with the same
--                            source fan out; source '@domain' is the
--                            catch-all of that domain.
-- New tables get utf8mb4 with the collation utf8mb4_uca1400_as_ci
-- (MariaDB >= 10.10): case-insensitive like ISPmail's utf8_general_ci,
-- but accent-sensitive, so "muller@" and "müller@" are two mailboxes.
-- Existing ISPmail tables keep their own (accent-insensitive) collation.
--
-- Format rules for this file and migrations/*.sql (facteur splits them
-- itself, see sql/README): a statement ends with ';' at the end of a
-- line; lines starting with '--' are comments; no ';' at a line end
-- inside a string, no DELIMITER, no stored procedures.

CREATE TABLE IF NOT EXISTS virtual_domains (
	id int(11) NOT NULL AUTO_INCREMENT,
	name varchar(50) NOT NULL,
	PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;

CREATE TABLE IF NOT EXISTS virtual_users (
	id int(11) NOT NULL AUTO_INCREMENT,
	domain_id int(11) NOT NULL,
	password varchar(150) NOT NULL,
	email varchar(100) NOT NULL,
	quota int(11) NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	UNIQUE KEY email (email),
	FOREIGN KEY (domain_id) REFERENCES virtual_domains(id)
	    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;

CREATE TABLE IF NOT EXISTS virtual_aliases (
	id int(11) NOT NULL AUTO_INCREMENT,
	domain_id int(11) NOT NULL,
	source varchar(100) NOT NULL,
	destination varchar(100) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY (domain_id) REFERENCES virtual_domains(id)
	    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_as_ci;
