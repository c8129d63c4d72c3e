/*
 * Names for the ids in a flow's owner: the user of a uid, the cgroup v2 path
 * of a cgroup id. One process-wide cache, like the C library's own passwd
 * lookups, so that every output (screen, streams, export, filter, sort)
 * reads the same names without a handle passed through each of them.
 *
 * Live, ids are looked up on this host: uids through getpwuid (/etc/passwd
 * and NSS stay readable after the privilege drop), cgroup ids by walking the
 * cgroup v2 tree (any user may read it), once for all and again once per
 * unknown id. Replaying, ids belong to the recording host: only names
 * learned from the file are known.
 */
#ifndef TFT_OWNER_NAMES_H
#define TFT_OWNER_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest cgroup path kept; longer ones are cut. */
#define OWNER_NAMES_PATH_MAX 512
/* Longest user name kept. */
#define OWNER_NAMES_USER_MAX 32

/*
 * Starts looking ids up on this host: cgroup ids under cgroup_root (the
 * cgroup v2 mount point), uids with getpwuid. NULL cgroup_root: replay,
 * nothing is looked up on this host. 0 or -errno.
 */
int owner_names_init(const char *cgroup_root);
/* Forgets every name (also what was learned). */
void owner_names_reset(void);

/* The user name of uid, or NULL when none is known. Borrowed until the next call here. */
const char *owner_names_user(uint32_t uid);
/*
 * The cgroup path ("/system.slice/x.service", relative to the mount) of a
 * cgroup id, or NULL when none is known even after a rescan. Borrowed until
 * the next call here.
 */
const char *owner_names_cgroup(uint64_t id);

/* Names as a recording gives them (NULL or "": nothing learned). */
void owner_names_learn(uint32_t uid, const char *user, uint64_t cgroup_id, const char *cgroup);

#endif /* TFT_OWNER_NAMES_H */
