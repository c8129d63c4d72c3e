/* Tests: moving this process between cgroup v2 directories. */
#ifndef TFT_TEST_CGROUP_JOIN_H
#define TFT_TEST_CGROUP_JOIN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Moves this process into the cgroup v2 directory dir; 0 or -errno. */
static inline int enter_cgroup(const char *dir)
{
	char path[PATH_MAX + 16], pid[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, pid, (size_t)n) != n)
		err = -errno;
	close(fd);
	return err;
}

/* This process's cgroup v2 directory, from /proc/self/cgroup ("0::/PATH") under root. */
static inline int own_cgroup(const char *root, char *buf, size_t size)
{
	char line[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = 0;
		if ((size_t)snprintf(buf, size, "%s%s", root, line + 3) < size)
			err = 0;
		break;
	}
	fclose(f);
	return err;
}

#endif
