/* What the process may do: checked before loading, given up once attached. */
#ifndef TFT_PRIVS_H
#define TFT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * True when the effective set allows loading and attaching cgroup_skb
 * programs: CAP_SYS_ADMIN, or CAP_BPF together with CAP_NET_ADMIN.
 */
bool privs_can_load_bpf(void);

/* Who the process becomes after privs_drop(). */
struct privs_target {
	uid_t uid;
	gid_t gid;
	char name[64]; /* for messages: the user name, or "uid N" */
};

/*
 * Chooses the user to drop to: the user named by user (from --user) when not
 * NULL, else SUDO_UID/SUDO_GID from the environment when they name a non-root
 * user, else "nobody". Call it before loading so a bad name fails early (and
 * while NSS files are still readable). Returns 0, -ENOENT for an unknown
 * user, or -EINVAL for a malformed SUDO_UID/SUDO_GID; err gets one line.
 */
int privs_choose_target(const char *user, struct privs_target *t, char *err, size_t errlen);

/*
 * Gives up root for good: clears the supplementary groups, sets the real,
 * effective and saved gid and uid to t (only when running as uid 0), empties
 * the bounding and ambient sets, clears every capability, and sets
 * no_new_privs so no exec can gain any back. Open file descriptors (BPF
 * links, maps, the mmap'd ring buffer, stdout) keep working. Returns 0 or
 * -errno; err gets one line naming the step that failed.
 */
int privs_drop(const struct privs_target *t, char *err, size_t errlen);

#endif /* TFT_PRIVS_H */
