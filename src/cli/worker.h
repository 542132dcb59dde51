/*
 * worker - the unprivileged process that serves every protocol.
 */
#ifndef CLI_WORKER_H
#define CLI_WORKER_H

#include <stddef.h>

#include "core/conf.h"
#include "net/server.h"

struct worker_listener {
	enum listen_kind kind;
	int		 fd;
};

/*
 * worker_precheck: what the supervisor checks before binding: TLS files
 * load, run_user exists. Prints "facteur: ..." and returns -1 on error.
 */
int worker_precheck(const struct conf *c);
/* worker_run: load secrets, drop privileges, serve until SIGTERM.
 * Returns the process exit status. */
int worker_run(struct conf *c, const struct worker_listener *wl, size_t n);

#endif
