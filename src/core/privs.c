/*
 * Capability checks and the privilege drop, through libcap (STYLE.md): the
 * order matters. The bounding set and groups need CAP_SETPCAP/CAP_SETGID, so
 * they go before the uid change; setresuid() from uid 0 to a non-zero uid
 * clears the permitted and effective sets by itself (no PR_SET_KEEPCAPS), and
 * cap_clear + cap_set_proc then makes the empty set explicit.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "err_msg.h"
#include "parse_num.h"
#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8; older libcap headers lack the name */
#endif

static bool has(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

bool privs_can_load_bpf(void)
{
	cap_t caps = cap_get_proc();
	bool ok;

	if (!caps)
		return false;
	ok = has(caps, CAP_SYS_ADMIN) || (has(caps, CAP_BPF) && has(caps, CAP_NET_ADMIN));
	cap_free(caps);
	return ok;
}

/* Digits only, no sign, fits an id_t below (id_t)-1 (which means "no change"). */
static int parse_id(const char *s, unsigned long *out)
{
	uint64_t v;

	if (!s || parse_u64(s, 0, UINT_MAX - 1, &v))
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static int by_name(const char *name, struct privs_target *t)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno ? -errno : -ENOENT;
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
	return 0;
}

int privs_choose_target(const char *user, struct privs_target *t, char *err, size_t errlen)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	unsigned long uid, gid;
	int e;

	memset(t, 0, sizeof(*t));
	if (user) {
		e = by_name(user, t);
		if (e)
			err_msg(err, errlen, "--user %s: %s", user,
				e == -ENOENT ? "no such user" : strerror(-e));
		return e;
	}
	if (su) {
		/* Each fault named as it is: "not numeric" for an unset variable misled people. */
		if (parse_id(su, &uid)) {
			err_msg(err, errlen,
				"SUDO_UID is not a numeric user id (unset it or pass --user NAME)");
			return -EINVAL;
		}
		if (!sg) {
			err_msg(err, errlen,
				"SUDO_UID is set but SUDO_GID is not (set both, unset SUDO_UID, or "
				"pass --user NAME)");
			return -EINVAL;
		}
		if (parse_id(sg, &gid)) {
			err_msg(
			    err, errlen,
			    "SUDO_GID is not a numeric group id (unset it or pass --user NAME)");
			return -EINVAL;
		}
		/* sudo from root: staying uid 0 without caps still owns root's files. */
		if (uid != 0) {
			t->uid = (uid_t)uid;
			t->gid = (gid_t)gid;
			snprintf(t->name, sizeof(t->name), "uid %lu", uid);
			return 0;
		}
	}
	e = by_name("nobody", t);
	if (e)
		err_msg(err, errlen, "user \"nobody\" to drop privileges to: %s (pass --user NAME)",
			e == -ENOENT ? "no such user" : strerror(-e));
	return e;
}

int privs_drop(const struct privs_target *t, char *err, size_t errlen)
{
	cap_t caps = NULL;
	cap_value_t c;
	int e;

	if (geteuid() == 0 || getuid() == 0) {
		/* Needs CAP_SETPCAP: before the uid change. */
		/* Every cap this kernel knows, including ones newer than our headers. */
		for (c = 0; c < 64 && CAP_IS_SUPPORTED(c); c++) {
			if (cap_drop_bound(c) < 0) {
				e = -errno;
				err_msg(err, errlen,
					"dropping capability %d from the bounding set: %s", (int)c,
					strerror(-e));
				return e;
			}
		}
		if (setgroups(0, NULL) < 0) {
			e = -errno;
			err_msg(err, errlen, "clearing supplementary groups: %s", strerror(-e));
			return e;
		}
		if (setresgid(t->gid, t->gid, t->gid) < 0) {
			e = -errno;
			err_msg(err, errlen, "setting gid %u: %s", (unsigned)t->gid, strerror(-e));
			return e;
		}
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
		    setresuid(t->uid, t->uid, t->uid) < 0) {
			e = -errno;
			err_msg(err, errlen, "setting uid %u: %s", (unsigned)t->uid, strerror(-e));
			return e;
		}
	}
	/* Not root (e.g. file capabilities): the uid stays, the caps still go. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0) {
		e = -errno;
		err_msg(err, errlen, "clearing ambient capabilities: %s", strerror(-e));
		return e;
	}
	caps = cap_init(); /* all clear */
	if (!caps || cap_clear(caps) < 0 || cap_set_proc(caps) < 0) {
		e = -errno;
		cap_free(caps);
		err_msg(err, errlen, "clearing capabilities: %s", strerror(-e));
		return e;
	}
	cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		e = -errno;
		err_msg(err, errlen, "setting no_new_privs: %s", strerror(-e));
		return e;
	}
	/* Paranoia: uid 0 must be out of reach now. */
	if (t->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		err_msg(err, errlen, "regained uid 0 after dropping it");
		return -EPERM;
	}
	return 0;
}
