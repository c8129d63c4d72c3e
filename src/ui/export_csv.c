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
#include "output_stream.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int export_csv_field(FILE *out, const char *text)
{
	bool quote = strpbrk(text, ",\"\r\n") != NULL;
	bool defuse = text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@';
	const char *p;

	if (quote || defuse) {
		if (fputc('"', out) == EOF)
			return -EIO;
		/* OWASP's advice for CSV injection: a leading quote makes it text. */
		if (defuse && fputc('\'', out) == EOF)
			return -EIO;
		for (p = text; *p; p++) {
			if (*p == '"' && fputc('"', out) == EOF)
				return -EIO;
			if (fputc(*p, out) == EOF)
				return -EIO;
		}
		return fputc('"', out) == EOF ? -EIO : 0;
	}
	return fputs(text, out) == EOF ? -EIO : 0;
}

static void time_iso(uint64_t mono_ns, char *buf, size_t size)
{
	struct timespec ts = clock_mono_to_wall(mono_ns);
	struct tm tm;
	size_t n;

	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
}

static int write_row(FILE *out, const struct tft_flow *f, const struct names_provider *names)
{
	char t[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], hs[32], sn[512], dn[512];
	const struct tft_flow_key *k = &f->key;
	uint64_t d;

	time_iso(f->syn_ns, t, sizeof(t));
	output_addr(k->family, k->saddr, src, sizeof(src));
	output_addr(k->family, k->daddr, dst, sizeof(dst));
	names_provider_lookup(names, k->family, k->saddr, sn, sizeof(sn));
	names_provider_lookup(names, k->family, k->daddr, dn, sizeof(dn));
	hs[0] = '\0';
	if (f->state != TFT_STATE_PENDING && f->answer_ns >= f->syn_ns) {
		d = f->answer_ns - f->syn_ns;
		snprintf(hs, sizeof(hs), "%llu.%03llu", (unsigned long long)(d / 1000000),
			 (unsigned long long)(d / 1000 % 1000));
	}
	if (fprintf(out, "%s,%llu,%s,%u,%s,%u,%s,%u,", t, (unsigned long long)f->id,
		    output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport) < 0)
		return -EIO;
	if (export_csv_field(out, sn) || fputc(',', out) == EOF || export_csv_field(out, dn))
		return -EIO;
	if (fprintf(out, ",%s,%u,%s\r\n", output_state_name(f->state), f->syn_retrans, hs) < 0)
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
	if (fputs("time,id,direction,family,src_addr,src_port,dst_addr,dst_port,src_domains,"
		  "dst_domains,state,syn_retrans,handshake_ms\r\n",
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
