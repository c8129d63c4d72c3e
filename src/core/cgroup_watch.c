#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup_watch.h"

struct cgroup_watch {
	char *path;	   /* owned */
	uint64_t attached; /* inode (cgroup id) of the cgroup the programs are on */
	uint64_t told;	   /* what was last told: the attached id, another id, or 0 (gone) */
};

struct cgroup_watch *cgroup_watch_new(const char *path)
{
	struct cgroup_watch *w;
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->path = strdup(path);
	if (!w->path) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->attached = w->told = (uint64_t)st.st_ino;
	return w;
}

void cgroup_watch_free(struct cgroup_watch *w)
{
	if (!w)
		return;
	free(w->path);
	free(w);
}

enum cgroup_watch_event cgroup_watch_poll(struct cgroup_watch *w)
{
	struct stat st;
	uint64_t now;

	if (stat(w->path, &st) == 0)
		now = (uint64_t)st.st_ino;
	else if (errno == ENOENT)
		now = 0;
	else
		return CGROUP_WATCH_SAME; /* EACCES, say, tells nothing about the cgroup */
	if (now == w->told)
		return CGROUP_WATCH_SAME;
	w->told = now;
	if (!now)
		return CGROUP_WATCH_GONE;
	return now == w->attached ? CGROUP_WATCH_SAME : CGROUP_WATCH_REPLACED;
}
