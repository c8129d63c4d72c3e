/*
 * Cgroup names are chosen by whoever may create cgroups (delegated users,
 * container runtimes): the short form only picks pieces of the path, and
 * the edge that shows it escapes it like any other untrusted text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_name.h"

/* A container id is long hex; 32 keeps session-3.scope and the like out. */
#define ID_MIN_CHARS 32

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * A container id in one path component: "<runtime>-<id>.scope" (the systemd
 * cgroup driver) or a bare "<id>" (cgroupfs). Returns its start, or NULL.
 */
static const char *container_id(const char *c, size_t n)
{
	const char *dash;
	size_t len;

	if (n >= ID_MIN_CHARS && all_hex(c, n))
		return c;
	if (!ends_with(c, n, ".scope"))
		return NULL;
	n -= strlen(".scope");
	dash = memrchr(c, '-', n);
	if (!dash)
		return NULL;
	len = n - (size_t)(dash + 1 - c);
	return len >= ID_MIN_CHARS && all_hex(dash + 1, len) ? dash + 1 : NULL;
}

/*
 * A pod's uid in a component under kubepods: "pod<uid>" (cgroupfs) or
 * "kubepods-<qos>-pod<uid>.slice" (systemd, '-' in the uid written '_').
 * Copies it into uid with '-' restored; false when there is none.
 */
static bool pod_uid(const char *c, size_t n, char *uid, size_t size)
{
	const char *p = NULL;
	size_t len, i;

	if (n > 3 && !memcmp(c, "pod", 3))
		p = c + 3;
	for (i = 0; !p && i + 4 <= n; i++)
		if (!memcmp(c + i, "-pod", 4))
			p = c + i + 4;
	if (!p)
		return false;
	len = n - (size_t)(p - c);
	if (ends_with(p, len, ".slice"))
		len -= strlen(".slice");
	if (len < 8 || len >= size)
		return false;
	for (i = 0; i < len; i++) {
		char ch = p[i] == '_' ? '-' : p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || ch == '-'))
			return false;
		uid[i] = ch;
	}
	uid[len] = '\0';
	return true;
}

const char *cgroup_short_name(const char *path, char *buf, size_t size)
{
	const char *c = path, *service = NULL, *id = NULL;
	size_t service_len = 0;
	bool kube = false;
	char uid[64];

	if (!size)
		return buf;
	while (*c) {
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		if (!strncmp(c, "kubepods", 8))
			kube = true; /* "kubepods-<qos>-pod<uid>.slice" names the pod itself */
		if (kube && pod_uid(c, n, uid, sizeof(uid)))
			return snprintf(buf, size, "pod:%s", uid), buf;
		if (!id)
			id = container_id(c, n);
		if (!service && ends_with(c, n, ".service")) {
			service = c;
			service_len = n;
		}
		c += n;
	}
	if (id)
		snprintf(buf, size, "docker:%.*s", CGROUP_NAME_ID_CHARS, id);
	else if (service)
		snprintf(buf, size, "%.*s", (int)service_len, service);
	else
		snprintf(buf, size, "%s", path);
	return buf;
}
