/* Finding the cgroup v2 hierarchy and checking a cgroup directory. */
#ifndef TFT_CGROUP_H
#define TFT_CGROUP_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The id of the cgroup v2 directory at path: what bpf_skb_cgroup_id and
 * bpf_skb_ancestor_cgroup_id return for it. The kernel hands it out as the
 * directory's file handle (and, on 64-bit, its inode number): a cgroup
 * removed and created again under the same path gets a new one. Needs no
 * privilege. 0 or -errno.
 */
int cgroup_id(const char *path, uint64_t *id);

/*
 * The depth of the cgroup v2 directory at path below the root of the whole
 * hierarchy (the root is 0), as bpf_skb_ancestor_cgroup_id counts levels,
 * found by walking up "..". Returns 0, -errno, or -EXDEV when the mount the
 * walk ends at does not show the hierarchy from its root (inside a cgroup
 * namespace, or a bind mount of a subtree), so the depth is unknown.
 */
int cgroup_level(const char *path, int *level);

#endif /* TFT_CGROUP_H */
