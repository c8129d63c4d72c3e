/*
 * /proc/net/netstat holds pairs of lines per group: "TcpExt: Name1 Name2 ..."
 * then "TcpExt: v1 v2 ...". Names are matched, not positions: the kernel
 * adds counters between releases.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse_num.h"
#include "tcp_mib.h"

/* The whole file is read at once; it is about 4 KiB on 6.x kernels. */
#define TCP_MIB_FILE_MAX (1 << 20)

static const struct {
	const char *name;
	size_t off;
} tcp_mib_names[] = {
    {"SyncookiesSent", offsetof(struct tcp_mib, syncookies_sent)},
    {"SyncookiesRecv", offsetof(struct tcp_mib, syncookies_recv)},
    {"SyncookiesFailed", offsetof(struct tcp_mib, syncookies_failed)},
    {"ListenOverflows", offsetof(struct tcp_mib, listen_overflows)},
    {"ListenDrops", offsetof(struct tcp_mib, listen_drops)},
};

/* The file's text, NUL-terminated, in *out (to free). 0 or -errno. */
static int read_all(const char *path, char **out)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb;

			if (cap >= TCP_MIB_FILE_MAX) {
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* The line after a "TcpExt:" prefix, or NULL when line is of another group. */
static char *tcpext_body(char *line)
{
	static const char prefix[] = "TcpExt:";

	if (strncmp(line, prefix, sizeof(prefix) - 1))
		return NULL;
	line += sizeof(prefix) - 1;
	return *line == ' ' || *line == '\0' ? line : NULL;
}

/* One names line and its values line, both cut into words in place. */
static int parse_pair(char *names, char *values, struct tcp_mib *out)
{
	char *ns, *vs, *name, *value;

	name = strtok_r(names, " ", &ns);
	value = strtok_r(values, " ", &vs);
	while (name && value) {
		uint64_t v;

		if (parse_u64(value, 0, UINT64_MAX, &v))
			return -EPROTO;
		for (size_t i = 0; i < sizeof(tcp_mib_names) / sizeof(tcp_mib_names[0]); i++)
			if (!strcmp(name, tcp_mib_names[i].name))
				memcpy((char *)out + tcp_mib_names[i].off, &v, sizeof(v));
		name = strtok_r(NULL, " ", &ns);
		value = strtok_r(NULL, " ", &vs);
	}
	return name || value ? -EPROTO : 0;
}

int tcp_mib_read(const char *proc_root, struct tcp_mib *out)
{
	char path[PATH_MAX], *text = NULL, *line, *next, *names = NULL;
	struct tcp_mib m = {0};
	int err, pairs = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/net/netstat", proc_root) >= sizeof(path))
		return -ENAMETOOLONG;
	err = read_all(path, &text);
	if (err)
		return err;
	for (line = text; line && !err; line = next) {
		char *body;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		body = tcpext_body(line);
		if (names) {
			/* The values must follow their names at once. */
			err = body ? parse_pair(names, body, &m) : -EPROTO;
			names = NULL;
			pairs++;
		} else if (body) {
			names = body;
		}
	}
	if (!err && (names || !pairs))
		err = -EPROTO; /* names without values, or no TcpExt at all */
	free(text);
	if (!err)
		*out = m;
	return err;
}
