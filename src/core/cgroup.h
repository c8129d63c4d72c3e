/* Finding the cgroup v2 hierarchy and checking a cgroup directory. */
#ifndef TFT_CGROUP_H
#define TFT_CGROUP_H

#include <stddef.h>

/*
 * Writes the mount point of the cgroup v2 hierarchy, read from mounts_path
 * (normally /proc/self/mounts), into buf. Returns 0, -ENOENT when no cgroup2
 * mount is listed, -ENAMETOOLONG, or -errno from opening the file.
 */
int cgroup_find_v2_root(const char *mounts_path, char *buf, size_t size);

/*
 * Checks that path is a directory on a cgroup v2 filesystem: 0, -ENOENT,
 * -ENOTDIR, or -EMEDIUMTYPE when it is a directory elsewhere (cgroup v1, a
 * plain directory).
 */
int cgroup_check_v2_dir(const char *path);

#endif /* TFT_CGROUP_H */
