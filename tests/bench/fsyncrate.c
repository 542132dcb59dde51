/*
 * fsyncrate - the physical limit for durable mail delivery on a disk:
 * how many small files per second can be created the way a Maildir
 * delivery must (write to tmp/, fsync the file, rename into new/, fsync
 * the directory). Used by tests/bench/bench.py.
 *
 * Usage: fsyncrate DIR COUNT SIZE [THREADS]
 * Prints one line: "<files> <seconds> <files per second>".
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
	const char	*dir;
	long		 first;
	long		 count;
	size_t		 size;
	int		 failed;
};

static char *payload;

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static int
one(const char *dir, long n, size_t size, int dirfd)
{
	char tmp[4096], dst[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%ld", dir, n);
	snprintf(dst, sizeof(dst), "%s/new/%ld", dir, n);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1)
		return -1;
	if (write(fd, payload, size) != (ssize_t)size || fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, dst) == -1 || fsync(dirfd) == -1)
		return -1;
	return 0;
}

static void *
run(void *arg)
{
	struct job *j = arg;
	char path[4096];
	long i;
	int dirfd;

	snprintf(path, sizeof(path), "%s/new", j->dir);
	dirfd = open(path, O_RDONLY | O_DIRECTORY);
	if (dirfd == -1) {
		j->failed = 1;
		return NULL;
	}
	for (i = 0; i < j->count; i++) {
		if (one(j->dir, j->first + i, j->size, dirfd) == -1) {
			perror("fsyncrate");
			j->failed = 1;
			break;
		}
	}
	close(dirfd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct job jobs[64];
	pthread_t tids[64];
	char path[4096];
	long count;
	size_t size;
	int i, threads;
	double t0, t1;

	if (argc < 4) {
		fprintf(stderr, "usage: fsyncrate DIR COUNT SIZE [THREADS]\n");
		return 2;
	}
	count = atol(argv[2]);
	size = (size_t)atol(argv[3]);
	threads = argc > 4 ? atoi(argv[4]) : 1;
	if (count <= 0 || threads <= 0 || threads > 64 || size > (1 << 26))
		return 2;
	snprintf(path, sizeof(path), "%s/tmp", argv[1]);
	if (mkdir(argv[1], 0700) == -1 && errno != EEXIST)
		return 1;
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return 1;
	snprintf(path, sizeof(path), "%s/new", argv[1]);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return 1;
	payload = malloc(size + 1);
	if (payload == NULL)
		return 1;
	memset(payload, 'x', size);
	t0 = now();
	for (i = 0; i < threads; i++) {
		jobs[i].dir = argv[1];
		jobs[i].first = (long)i * count;
		jobs[i].count = count / threads;
		jobs[i].size = size;
		jobs[i].failed = 0;
		pthread_create(&tids[i], NULL, run, &jobs[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	t1 = now();
	for (i = 0; i < threads; i++)
		if (jobs[i].failed)
			return 1;
	count = (count / threads) * threads;
	printf("%ld %.6f %.1f\n", count, t1 - t0, count / (t1 - t0));
	return 0;
}
