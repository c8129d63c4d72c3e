#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int cgroup_find_v2_root(const char *mounts_path, char *buf, size_t size)
{
	struct mntent ent, *m;
	char line[4096];
	int err = -ENOENT;
	FILE *f;

	f = setmntent(mounts_path, "re");
	if (!f)
		return -errno;
	/* The first cgroup2 entry: later ones are usually bind mounts into containers. */
	while ((m = getmntent_r(f, &ent, line, sizeof(line)))) {
		if (strcmp(m->mnt_type, "cgroup2") != 0)
			continue;
		if (strlen(m->mnt_dir) >= size) {
			err = -ENAMETOOLONG;
		} else {
			strcpy(buf, m->mnt_dir);
			err = 0;
		}
		break;
	}
	endmntent(f);
	return err;
}

int cgroup_check_v2_dir(const char *path)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(path, &sfs) < 0)
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	return 0;
}
