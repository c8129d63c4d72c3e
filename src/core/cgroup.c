#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

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

int cgroup_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	struct stat st;
	int mount_id;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EOVERFLOW)
		return -errno;
	/* No handle here: the inode number is the id on 64-bit kernels. */
	if (stat(path, &st) < 0)
		return -errno;
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* The inode of the root cgroup: the first id the kernel gives out (Linux 5.5 and later). */
#define CGROUP_ROOT_INO 1

/* Bounds the walk up: cgroup.max.depth is unlimited by default, paths are not. */
#define CGROUP_MAX_WALK 4096

int cgroup_level(const char *path, int *level)
{
	struct stat here, up;
	int fd, parent, n, err = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &here) < 0) {
		err = -errno;
		goto out;
	}
	for (n = 0; n < CGROUP_MAX_WALK; n++) {
		parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) < 0) {
			err = -errno;
			if (parent >= 0)
				close(parent);
			goto out;
		}
		close(fd);
		fd = parent;
		/* Out of the cgroup filesystem (or at /): "here" is the mount's root. */
		if (up.st_dev != here.st_dev || up.st_ino == here.st_ino)
			break;
		here = up;
	}
	if (n == CGROUP_MAX_WALK || here.st_ino != CGROUP_ROOT_INO)
		err = -EXDEV;
	else
		*level = n;
out:
	close(fd);
	return err;
}
