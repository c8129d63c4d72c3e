/*
 * Two open-addressing tables: uids and cgroup ids to names, misses
 * included, so an id nobody can name costs one lookup (and, for a cgroup,
 * one rescan) in all. Each table is dropped whole when full: ids are few
 * on a host, so that only happens under churn, and then the names come
 * back on the next lookups.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owner_names.h"

#define USERS_SLOTS 1024u      /* power of two; filled to half at most */
#define CGROUPS_MAX (1u << 18) /* entries; the table doubles up to twice this */
#define WALK_DEPTH 32	       /* cgroup v2 nests at most this deep in practice */

struct user_slot {
	uint32_t uid;
	uint8_t used;  /* 0: free */
	uint8_t known; /* name holds the user's name; else the uid has none */
	char name[OWNER_NAMES_USER_MAX + 1];
};

struct cgroup_slot {
	uint64_t id; /* 0: free (no cgroup has id 0) */
	char *path;  /* owned; NULL: no cgroup with this id was found */
};

static struct {
	bool live;
	char root[OWNER_NAMES_PATH_MAX];
	struct user_slot users[USERS_SLOTS];
	size_t nusers;
	struct cgroup_slot *cgroups; /* owned, ncap slots */
	size_t ncap, ncgroups;
} on;

static uint64_t mix(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	return v ^ (v >> 33);
}

static void clear_cgroups(void)
{
	for (size_t i = 0; i < on.ncap; i++)
		free(on.cgroups[i].path);
	free(on.cgroups);
	on.cgroups = NULL;
	on.ncap = on.ncgroups = 0;
}

void owner_names_reset(void)
{
	clear_cgroups();
	memset(on.users, 0, sizeof(on.users));
	on.nusers = 0;
}

int owner_names_init(const char *cgroup_root)
{
	owner_names_reset();
	on.live = cgroup_root != NULL;
	on.root[0] = '\0';
	if (cgroup_root) {
		if (strlen(cgroup_root) >= sizeof(on.root))
			return -ENAMETOOLONG;
		snprintf(on.root, sizeof(on.root), "%s", cgroup_root);
	}
	return 0;
}

/* ---- users ---- */

static struct user_slot *user_slot(uint32_t uid, bool add)
{
	size_t i = (size_t)mix(uid) & (USERS_SLOTS - 1);

	for (;; i = (i + 1) & (USERS_SLOTS - 1)) {
		struct user_slot *s = &on.users[i];

		if (s->used && s->uid == uid)
			return s;
		if (!s->used) {
			if (!add)
				return NULL;
			if (on.nusers >= USERS_SLOTS / 2) {
				memset(on.users, 0, sizeof(on.users));
				on.nusers = 0;
				return user_slot(uid, true);
			}
			s->used = 1;
			s->uid = uid;
			on.nusers++;
			return s;
		}
	}
}

static void set_user(struct user_slot *s, const char *name)
{
	s->known = name && name[0];
	snprintf(s->name, sizeof(s->name), "%s", s->known ? name : "");
}

const char *owner_names_user(uint32_t uid)
{
	struct user_slot *s = user_slot(uid, false);

	if (!s && on.live) {
		struct passwd pw, *res = NULL;
		char buf[4096];

		s = user_slot(uid, true);
		getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
		set_user(s, res ? res->pw_name : NULL);
	}
	return s && s->known ? s->name : NULL;
}

/* ---- cgroups ---- */

static struct cgroup_slot *cgroup_slot(uint64_t id)
{
	size_t i;

	if (!on.ncap)
		return NULL;
	for (i = (size_t)mix(id) & (on.ncap - 1);; i = (i + 1) & (on.ncap - 1)) {
		if (on.cgroups[i].id == id || !on.cgroups[i].id)
			return &on.cgroups[i];
	}
}

static int grow(void)
{
	struct cgroup_slot *old = on.cgroups;
	size_t oldcap = on.ncap, cap = oldcap ? oldcap * 2 : 256;

	on.cgroups = calloc(cap, sizeof(*on.cgroups));
	if (!on.cgroups) {
		on.cgroups = old;
		return -ENOMEM;
	}
	on.ncap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].id)
			*cgroup_slot(old[i].id) = old[i];
	free(old);
	return 0;
}

/* Records id's path (NULL: known to have none); an existing entry is replaced. */
static void put_cgroup(uint64_t id, const char *path)
{
	struct cgroup_slot *s;

	if (!id)
		return;
	if (on.ncgroups >= CGROUPS_MAX)
		clear_cgroups();
	if ((on.ncgroups + 1) * 2 > on.ncap && grow())
		return;
	s = cgroup_slot(id);
	if (!s->id) {
		s->id = id;
		on.ncgroups++;
	}
	free(s->path);
	s->path = path ? strndup(path, OWNER_NAMES_PATH_MAX - 1) : NULL;
}

/* Adds dir's subdirectories (rel is dir's path below the root, "" for the root). */
static void walk(int dir, const char *rel, int depth, size_t *budget)
{
	DIR *d = fdopendir(dir);
	struct dirent *e;

	if (!d) {
		close(dir);
		return;
	}
	while ((e = readdir(d)) && *budget) {
		char path[OWNER_NAMES_PATH_MAX];
		struct stat st;
		int fd;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel, e->d_name) >= sizeof(path))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0)
			put_cgroup((uint64_t)st.st_ino, path);
		(*budget)--;
		if (depth + 1 < WALK_DEPTH)
			walk(fd, path, depth + 1, budget);
		else
			close(fd);
	}
	closedir(d);
}

static void rescan(void)
{
	size_t budget = CGROUPS_MAX / 2;
	struct stat st;
	int fd = open(on.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0)
		put_cgroup((uint64_t)st.st_ino, "/");
	walk(fd, "", 0, &budget);
}

const char *owner_names_cgroup(uint64_t id)
{
	struct cgroup_slot *s = cgroup_slot(id);

	if (!id)
		return NULL;
	if ((!s || !s->id) && on.live) {
		/* Unknown: created since the last walk, or never to be found. One walk decides. */
		rescan();
		s = cgroup_slot(id);
		if (!s || !s->id) {
			put_cgroup(id, NULL);
			s = cgroup_slot(id);
		}
	}
	return s && s->id ? s->path : NULL;
}

void owner_names_learn(uint32_t uid, const char *user, uint64_t cgroup_id, const char *cgroup)
{
	if (user && user[0])
		set_user(user_slot(uid, true), user);
	if (cgroup && cgroup[0])
		put_cgroup(cgroup_id, cgroup);
}
