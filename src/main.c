/*
 * facteur - one binary, MTA plus MDA. main() only dispatches argv[1] to
 * the server or a subcommand (src/cli/).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"

struct subcmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
};

static int main_version(int argc, char **argv);

static const struct subcmd subcmds[] = {
	{ "serve", cli_serve, "serve [-c FILE] [-f]" },
	{ "check", cli_check, "check [-c FILE]" },
	{ "db", cli_db, "db init [-c FILE]" },
	{ "domain", cli_domain, "domain add|del|list [NAME]" },
	{ "user", cli_user,
	    "user add|del|passwd|list EMAIL [--quota BYTES]" },
	{ "alias", cli_alias, "alias add|del|list SOURCE [DEST]" },
	{ "admin", cli_admin, "admin add|del|list NAME" },
	{ "queue", cli_queue, "queue list|show|retry|delete [ID]" },
	{ "hash", cli_hash, "hash [--scheme ARGON2ID]" },
	{ "dkim", cli_dkim, "dkim generate DOMAIN [--selector S] [--algorithm rsa|ed25519]" },
	{ "version", main_version, "version" },
};

static int
main_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("facteur %s\n", FACTEUR_VERSION);
	return 0;
}

static int
main_usage(void)
{
	size_t i;

	fprintf(stderr, "usage: facteur <command> [-c FILE] [args]\n");
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(stderr, "       facteur %s\n", subcmds[i].usage);
	return CLI_USAGE;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init(LOG_INFO);
	if (argc < 2)
		return main_usage();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return main_version(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage();
		return 0;
	}
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++) {
		if (strcmp(argv[1], subcmds[i].name) != 0)
			continue;
		return subcmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "facteur: %s: unknown command\n", argv[1]);
	return main_usage();
}
