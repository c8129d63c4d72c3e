/*
 * Noticing that the watched cgroup went away. The programs stay attached to
 * the cgroup that existed at start (its directory's inode is the cgroup
 * id); when the directory is removed, or removed and created again (what
 * "systemctl restart" does to a service's cgroup), the flows of the new
 * one are not seen. Each change is told once, so it is never silent.
 */
#ifndef TFT_CGROUP_WATCH_H
#define TFT_CGROUP_WATCH_H

#include <stdint.h>

enum cgroup_watch_event {
	CGROUP_WATCH_SAME = 0,	   /* nothing new to say */
	CGROUP_WATCH_GONE = 1,	   /* the path no longer exists */
	CGROUP_WATCH_REPLACED = 2, /* the path is another cgroup now */
};

struct cgroup_watch;

/* Remembers the cgroup at path now (copied). NULL and errno on failure. */
struct cgroup_watch *cgroup_watch_new(const char *path);
void cgroup_watch_free(struct cgroup_watch *w);

/* Looks at the path again (one stat); returns a change not told before. */
enum cgroup_watch_event cgroup_watch_poll(struct cgroup_watch *w);

#endif /* TFT_CGROUP_WATCH_H */
