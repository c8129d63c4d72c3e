/*
 * Noticing that the watched cgroup went away or was replaced. A cgroup
 * removed and created again under the same path (what "systemctl restart"
 * does to a service's cgroup) is another cgroup, with another id (its
 * directory's inode). Each change is told once, so it is never silent;
 * following the new cgroup is the caller's part (capture_follow), which is
 * possible only while the parent the programs are attached to still exists,
 * so that is watched too.
 */
#ifndef TFT_CGROUP_WATCH_H
#define TFT_CGROUP_WATCH_H

#include <stdbool.h>
#include <stdint.h>

enum cgroup_watch_event {
	CGROUP_WATCH_SAME = 0,	      /* nothing new to say */
	CGROUP_WATCH_GONE = 1,	      /* the path no longer exists */
	CGROUP_WATCH_REPLACED = 2,    /* the path is another cgroup now: cgroup_watch_id */
	CGROUP_WATCH_PARENT_GONE = 3, /* the parent directory was removed (or replaced) */
};

struct cgroup_watch;

/*
 * Remembers the cgroup at path now (path copied), and with parent its parent
 * directory's cgroup as well. NULL and errno on failure.
 */
struct cgroup_watch *cgroup_watch_new(const char *path, bool parent);
void cgroup_watch_free(struct cgroup_watch *w);

/*
 * Looks at the path again (one or two lookups, no privilege needed);
 * returns a change not told before. The parent's loss is told first and
 * once; the path's changes go on being told after it.
 */
enum cgroup_watch_event cgroup_watch_poll(struct cgroup_watch *w);

/* The cgroup id at the path as last seen: at start, or after REPLACED the new one; 0 when gone. */
uint64_t cgroup_watch_id(const struct cgroup_watch *w);

/* The parent directory watched (absolute, no symlinks); "" without parent. Borrowed. */
const char *cgroup_watch_parent(const struct cgroup_watch *w);

#endif /* TFT_CGROUP_WATCH_H */
