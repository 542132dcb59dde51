/*
 * hash - `facteur hash [-c FILE] [--scheme S]`: read one password line on
 * stdin, print "{SCHEME}hash". Also declared in cli/cli.h.
 */
#ifndef CLI_HASH_H
#define CLI_HASH_H

/* cli_hash: argv[0] = "hash". Returns 0, 1 (error) or 2 (usage). */
int cli_hash(int argc, char **argv);

#endif
