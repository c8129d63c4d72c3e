#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cgroup_watch.h"

struct cgroup_watch {
	char *path;	    /* owned */
	char *parent;	    /* owned: "" when the parent is not watched */
	uint64_t told;	    /* the id last told (at start: the first), or 0 (gone) */
	uint64_t parent_id; /* the parent's cgroup at start; 0 once its loss was told */
};

/* The parent directory of path: resolved first, so ".." and symlinks name the real one. */
static char *parent_of(const char *path)
{
	char *real = realpath(path, NULL), *slash;

	if (!real)
		return NULL;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = 0; /* a directory right under "/" */
	else if (slash)
		*slash = 0;
	return real;
}

struct cgroup_watch *cgroup_watch_new(const char *path, bool parent)
{
	struct cgroup_watch *w;
	int e;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->path = strdup(path);
	w->parent = parent ? parent_of(path) : strdup("");
	if (!w->path || !w->parent) {
		e = errno;
		goto fail;
	}
	e = -cgroup_id(path, &w->told);
	if (!e && parent)
		e = -cgroup_id(w->parent, &w->parent_id);
	if (e)
		goto fail;
	return w;
fail:
	cgroup_watch_free(w);
	errno = e;
	return NULL;
}

void cgroup_watch_free(struct cgroup_watch *w)
{
	if (!w)
		return;
	free(w->path);
	free(w->parent);
	free(w);
}

/* The id at path now, 0 when it does not exist; false when the lookup told nothing (EACCES). */
static bool id_now(const char *path, uint64_t *id)
{
	int e = cgroup_id(path, id);

	if (e == -ENOENT)
		*id = 0;
	return !e || e == -ENOENT;
}

enum cgroup_watch_event cgroup_watch_poll(struct cgroup_watch *w)
{
	uint64_t now, parent;
	bool known = id_now(w->path, &now);

	if (w->parent_id && id_now(w->parent, &parent) && parent != w->parent_id) {
		w->parent_id = 0;
		if (known)
			w->told = now; /* the path went with its parent: this tells both */
		return CGROUP_WATCH_PARENT_GONE;
	}
	if (!known || now == w->told)
		return CGROUP_WATCH_SAME;
	w->told = now;
	if (!now)
		return CGROUP_WATCH_GONE;
	/* Ids are not reused while the system runs: any other id is a new cgroup. */
	return CGROUP_WATCH_REPLACED;
}

uint64_t cgroup_watch_id(const struct cgroup_watch *w)
{
	return w->told;
}

const char *cgroup_watch_parent(const struct cgroup_watch *w)
{
	return w->parent;
}
