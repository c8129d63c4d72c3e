/*
 * Two passes: the listeners (a sock_diag dump, or /proc/net/tcp and tcp6,
 * state 0A), then each process's fd links under /proc, matched by socket
 * inode. Lookups are linear: a host has tens or hundreds of listeners, and
 * only a SYN that arrived with no owner asks.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse_num.h"
#include "proc_listeners.h"
#include "sock_diag.h"

#define TCP_LISTEN 0x0a
/* A host with more listeners than this keeps the first ones. */
#define LISTENERS_MAX 65536

struct listener {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint64_t inode;
	bool owned;
	struct tft_owner owner;
};

struct proc_listeners {
	char *proc_root;    /* owned */
	char *cgroup_root;  /* owned, may be NULL */
	struct listener *v; /* owned */
	size_t n, cap;
	uint64_t scanned_ns; /* when the last rescan ran (0: only the first scan) */
	enum listener_table table;
};

/* One 32-bit word of /proc/net/tcp's address: the bytes in memory order, printed as a host int. */
static void word_bytes(const char *hex8, uint8_t *out)
{
	char tmp[9];
	unsigned long w;

	memcpy(tmp, hex8, 8);
	tmp[8] = '\0';
	w = strtoul(tmp, NULL, 16);
	for (int i = 0; i < 4; i++) {
		uint32_t one = 1;

		/* The kernel prints the raw 32-bit value: its bytes are in this host's order. */
		if (*(uint8_t *)&one)
			out[i] = (uint8_t)(w >> (8 * i));
		else
			out[i] = (uint8_t)(w >> (8 * (3 - i)));
	}
}

static int add(struct proc_listeners *l, const struct listener *x)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct listener *v;

		if (cap > LISTENERS_MAX)
			return -E2BIG;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *x;
	return 0;
}

/* The listeners of one of net/tcp, net/tcp6. A missing file (no IPv6) is no error. */
static void read_net(struct proc_listeners *l, const char *name, uint8_t family)
{
	char path[PATH_MAX], line[512], hex[33];
	unsigned port, st;
	unsigned long long inode;
	size_t hexlen = family == 4 ? 8 : 32;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/%s", l->proc_root, name);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct listener x = {.family = family};

		if (sscanf(line,
			   " %*u: %32[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u "
			   "%*u %llu",
			   hex, &port, &st, &inode) != 4 ||
		    strlen(hex) != hexlen || st != TCP_LISTEN || !inode || port > 65535)
			continue;
		for (size_t w = 0; w < hexlen / 8; w++)
			word_bytes(hex + 8 * w, x.addr + 4 * w);
		x.port = (uint16_t)port;
		x.inode = inode;
		if (add(l, &x))
			break;
	}
	fclose(f);
}

static void on_listener(const struct sock_diag_entry *e, void *ctx)
{
	struct listener x = {.family = e->family, .port = e->lport, .inode = e->inode};

	if (!x.inode)
		return;
	memcpy(x.addr, e->laddr, sizeof(x.addr));
	add(ctx, &x); /* past LISTENERS_MAX the first ones stay */
}

/* The listeners, from the kernel's table; from /proc/net once that fails. */
static void read_listeners(struct proc_listeners *l)
{
	if (l->table == LISTENER_TABLE_SOCK_DIAG) {
		struct sock_diag *d = sock_diag_open();
		int err = d ? sock_diag_dump(d, 1u << TCP_LISTEN, on_listener, l) : -errno;

		sock_diag_close(d);
		if (!err)
			return;
		l->n = 0; /* a dump that failed part way */
		l->table = LISTENER_TABLE_PROC_NET;
	}
	read_net(l, "tcp", 4);
	read_net(l, "tcp6", 6);
}

/* A small file's first line, newline cut; false when it cannot be read. */
static bool first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The process's real uid and gid, its command name and its cgroup v2 id. */
static void read_owner(const struct proc_listeners *l, const char *pid, struct tft_owner *o)
{
	char path[PATH_MAX], line[PATH_MAX];
	uint64_t v;
	FILE *f;
	struct stat sb;

	memset(o, 0, sizeof(*o));
	if (!parse_u64(pid, 1, UINT32_MAX, &v))
		o->tgid = o->pid = (uint32_t)v;
	snprintf(path, sizeof(path), "%s/%s/comm", l->proc_root, pid);
	if (first_line(path, line, sizeof(line)))
		/* As the kernel keeps it: at most 16 bytes, NUL-padded. */
		memcpy(o->comm, line, strnlen(line, sizeof(o->comm)));
	snprintf(path, sizeof(path), "%s/%s/status", l->proc_root, pid);
	f = fopen(path, "re");
	if (f) {
		unsigned uid, gid;

		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Uid: %u", &uid) == 1)
				o->uid = uid;
			else if (sscanf(line, "Gid: %u", &gid) == 1)
				o->gid = gid;
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s/cgroup", l->proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (l->cgroup_root && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* "0::/path": the v2 hierarchy; the v1 lines name controllers. */
		if (strncmp(line, "0::/", 4))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s", l->cgroup_root, line + 3) <
			sizeof(path) &&
		    stat(path, &sb) == 0)
			o->cgroup_id = sb.st_ino;
		break;
	}
	fclose(f);
}

static struct listener *by_inode(struct proc_listeners *l, uint64_t inode)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].inode == inode)
			return &l->v[i];
	return NULL;
}

/* Gives each listener the first process found holding its socket. */
static void find_owners(struct proc_listeners *l)
{
	char path[PATH_MAX], link[64];
	struct dirent *p, *fd;
	DIR *procs, *fds;

	procs = opendir(l->proc_root);
	if (!procs)
		return;
	while ((p = readdir(procs))) {
		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd", l->proc_root, p->d_name);
		fds = opendir(path);
		if (!fds)
			continue; /* gone, or another user's after the drop */
		while ((fd = readdir(fds))) {
			unsigned long long inode;
			struct listener *x;
			ssize_t n;

			if (fd->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/fd/%s", l->proc_root, p->d_name,
				 fd->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%llu]", &inode) != 1)
				continue;
			x = by_inode(l, inode);
			if (x && !x->owned) {
				read_owner(l, p->d_name, &x->owner);
				x->owned = true;
			}
		}
		closedir(fds);
	}
	closedir(procs);
}

/*
 * Reads the listeners again. Owners found before carry over by inode: after
 * the privilege drop a rescan can no longer read other users' fd links.
 */
static void scan(struct proc_listeners *l)
{
	struct listener *old = l->v;
	size_t n_old = l->n, i, j;

	l->v = NULL;
	l->n = l->cap = 0;
	read_listeners(l);
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < n_old; j++) {
			if (old[j].owned && old[j].inode == l->v[i].inode) {
				l->v[i].owned = true;
				l->v[i].owner = old[j].owner;
				break;
			}
		}
	}
	free(old);
	/* The walk reads every process's fds: only when some listener still lacks its owner. */
	if (l->n && proc_listeners_count(l) < l->n)
		find_owners(l);
}

struct proc_listeners *proc_listeners_new(const char *proc_root, const char *cgroup_root,
					  enum listener_table table)
{
	struct proc_listeners *l = calloc(1, sizeof(*l));
	struct stat sb;

	if (!l)
		return NULL;
	l->table = table;
	l->proc_root = strdup(proc_root);
	l->cgroup_root = cgroup_root ? strdup(cgroup_root) : NULL;
	if (!l->proc_root || (cgroup_root && !l->cgroup_root)) {
		proc_listeners_free(l);
		errno = ENOMEM;
		return NULL;
	}
	if (stat(proc_root, &sb) < 0) {
		int e = errno;

		proc_listeners_free(l);
		errno = e;
		return NULL;
	}
	scan(l);
	return l;
}

void proc_listeners_free(struct proc_listeners *l)
{
	if (!l)
		return;
	free(l->proc_root);
	free(l->cgroup_root);
	free(l->v);
	free(l);
}

size_t proc_listeners_count(const struct proc_listeners *l)
{
	size_t owned = 0;

	for (size_t i = 0; i < l->n; i++)
		owned += l->v[i].owned;
	return owned;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* The bound address first, then the family's wildcard, then (IPv4) the IPv6 wildcard. */
static const struct listener *find(const struct proc_listeners *l, uint8_t family,
				   const uint8_t addr[16], uint16_t port)
{
	size_t alen = family == 4 ? 4 : 16;
	const struct listener *wild = NULL, *wild6 = NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct listener *x = &l->v[i];

		if (x->port != port || !x->owned)
			continue;
		if (x->family == family && !memcmp(x->addr, addr, alen))
			return x;
		if (x->family == family && all_zero(x->addr, alen))
			wild = x;
		else if (family == 4 && x->family == 6 && all_zero(x->addr, 16))
			wild6 = x;
	}
	return wild ? wild : wild6;
}

bool proc_listeners_owner(struct proc_listeners *l, uint8_t family, const uint8_t addr[16],
			  uint16_t port, uint64_t now_ns, struct tft_owner *out)
{
	const struct listener *x = find(l, family, addr, port);

	if (!x &&
	    (!l->scanned_ns || now_ns - l->scanned_ns >= PROC_LISTENERS_RESCAN_S * 1000000000ull)) {
		l->scanned_ns = now_ns ? now_ns : 1;
		scan(l);
		x = find(l, family, addr, port);
	}
	if (!x)
		return false;
	*out = x->owner;
	return true;
}
