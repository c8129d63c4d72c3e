#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "export_csv.h"
#include "name_escape.h"
#include "output_stream.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int export_csv_field(FILE *out, const char *text)
{
	char cell[4 * 1024 + 8];
	size_t n = tft_escape_csv(cell, sizeof(cell), text, strlen(text));

	if (n >= sizeof(cell))
		return -E2BIG; /* cannot happen: the screen's names are capped far below */
	return fputs(cell, out) == EOF ? -EIO : 0;
}

/* The names list uses ',' between names (a name's own commas are escaped): a space in CSV, as the
 * stream. */
static void space_separated(char *names)
{
	for (; *names; names++)
		if (*names == ',')
			*names = ' ';
}

/* The stream's CSV columns, without `event`: the same scripts read both. */
static int write_row(FILE *out, const struct tft_flow *f, const struct names_provider *names)
{
	char t[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], hs[32], sn[512], dn[512];
	const struct tft_flow_key *k = &f->key;

	output_time_iso(f->syn_ns, t, sizeof(t));
	output_addr(k->family, k->saddr, src, sizeof(src));
	output_addr(k->family, k->daddr, dst, sizeof(dst));
	output_handshake_ms(f, hs, sizeof(hs));
	names_provider_lookup(names, k->family, k->saddr, sn, sizeof(sn));
	names_provider_lookup(names, k->family, k->daddr, dn, sizeof(dn));
	space_separated(sn);
	space_separated(dn);
	if (fprintf(out, "%s,%llu,%s,%u,%s,%u,%s,%u,%s,%u,%s,", t, (unsigned long long)f->id,
		    output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
		    output_state_name(f->state), f->syn_retrans, hs) < 0)
		return -EIO;
	if (export_csv_field(out, sn) || fputc(',', out) == EOF || export_csv_field(out, dn) ||
	    fputs("\r\n", out) == EOF)
		return -EIO;
	return 0;
}

int export_csv_write(const char *dir, time_t now, size_t n, export_csv_row_fn row, void *ctx,
		     const struct names_provider *names, char *path, size_t pathlen,
		     size_t *written)
{
	char tmp[64], name[64], stamp[32];
	int dfd, fd = -1, err = 0, attempt;
	FILE *out = NULL;
	struct tm tm;
	size_t i, rows = 0;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	snprintf(tmp, sizeof(tmp), ".tcpflowtop-%s.%ld.tmp", stamp, (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_dir;
	}
	/* The umask can only narrow the mode; make sure nothing widened it. */
	if (fchmod(fd, 0600) < 0) {
		err = -errno;
		goto out_unlink;
	}
	out = fdopen(fd, "w");
	if (!out) {
		err = -errno;
		goto out_unlink;
	}
	fd = -1; /* owned by out now */
	if (fputs("time,id,direction,family,src_addr,src_port,dst_addr,dst_port,state,"
		  "syn_retrans,handshake_ms,src_names,dst_names\r\n",
		  out) == EOF) {
		err = -EIO;
		goto out_unlink;
	}
	for (i = 0; i < n; i++) {
		const struct tft_flow *f = row(ctx, i);

		if (!f)
			continue;
		if (write_row(out, f, names)) {
			err = -EIO;
			goto out_unlink;
		}
		rows++;
	}
	/* Errors of buffered writes (ENOSPC) surface here, with their errno. */
	errno = 0;
	if (fflush(out) == EOF || fsync(fileno(out)) < 0) {
		err = errno ? -errno : -EIO;
		goto out_unlink;
	}
	if (fclose(out) == EOF) {
		out = NULL;
		err = errno ? -errno : -EIO;
		goto out_unlink;
	}
	out = NULL;
	for (attempt = 1; attempt < 100; attempt++) {
		if (attempt == 1)
			snprintf(name, sizeof(name), "tcpflowtop-%s.csv", stamp);
		else
			snprintf(name, sizeof(name), "tcpflowtop-%s-%d.csv", stamp, attempt);
		if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST) {
			err = -errno;
			goto out_unlink;
		}
	}
	if (attempt == 100) {
		err = -EEXIST;
		goto out_unlink;
	}
	snprintf(path, pathlen, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
		 name);
	*written = rows;
	close(dfd);
	return 0;

out_unlink:
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
out_dir:
	close(dfd);
	return err;
}
