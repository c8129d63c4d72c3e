#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "export_csv.h"
#include "name_escape.h"
#include "flow_fields.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int export_csv_write_error(void)
{
	return errno ? -errno : -EIO;
}

int export_csv_field(FILE *out, const char *text)
{
	/* Quotes doubled at most: room for a whole names cell, never cut. */
	static char cell[2 * FLOW_NAMES_TEXT_SIZE + 8];
	size_t n = tft_escape_csv(cell, sizeof(cell), text, strlen(text));

	if (n >= sizeof(cell))
		return -E2BIG; /* cannot happen: a cell is at most FLOW_NAMES_TEXT_SIZE */
	errno = 0;
	return fputs(cell, out) == EOF ? export_csv_write_error() : 0;
}

/* The stream's CSV columns without `event`, from the field table: the same scripts read both. */
static int write_header(FILE *out)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_EXPORT, ids), i;

	errno = 0;
	for (i = 0; i < n; i++)
		if ((i && fputc(',', out) == EOF) || fputs(flow_field(ids[i])->key, out) == EOF)
			return export_csv_write_error();
	return fputs("\r\n", out) == EOF ? export_csv_write_error() : 0;
}

static int write_row(FILE *out, const struct tft_flow *f, const struct names_provider *names)
{
	struct flow_field_ctx c = {f, TFT_CHANGE_NONE, f->syn_ns, names};
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_EXPORT, ids), i;
	static char cell[FLOW_NAMES_TEXT_SIZE]; /* a names cell, uncut */
	int err;

	errno = 0;
	for (i = 0; i < n; i++) {
		flow_field_render(ids[i], &c, FLOW_TARGET_EXPORT, cell, sizeof(cell));
		if (i && fputc(',', out) == EOF)
			return export_csv_write_error();
		err = export_csv_field(out, cell);
		if (err)
			return err;
	}
	return fputs("\r\n", out) == EOF ? export_csv_write_error() : 0;
}

/*
 * An exclusive temporary name nobody can guess: in a shared (1777)
 * directory another user could pre-create a predictable one and block
 * every export. Retries on the (unlikely) name that exists. Returns the
 * fd, or -errno.
 */
static int open_temp(int dfd, char *tmp, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[8];
	int attempt, fd, i;

	for (attempt = 0; attempt < 100; attempt++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return errno ? -errno : -EIO;
		snprintf(tmp, size, ".tcpflowtop-");
		for (i = 0; i < (int)sizeof(rnd); i++) {
			char h[3] = {hex[rnd[i] >> 4], hex[rnd[i] & 15], '\0'};

			strncat(tmp, h, size - strlen(tmp) - 1);
		}
		strncat(tmp, ".tmp", size - strlen(tmp) - 1);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

struct flow_rows {
	size_t n;
	export_csv_row_fn row;
	void *ctx;
	const struct names_provider *names;
};

static int flow_body(FILE *out, void *ctx, size_t *rows)
{
	const struct flow_rows *fr = ctx;
	size_t i;
	int err = write_header(out);

	for (i = 0; !err && i < fr->n; i++) {
		const struct tft_flow *f = fr->row(fr->ctx, i);

		if (!f)
			continue;
		err = write_row(out, f, fr->names);
		if (!err)
			(*rows)++;
	}
	return err; /* the real errno (ENOSPC), not a bare EIO */
}

int export_csv_write(const char *dir, time_t now, size_t n, export_csv_row_fn row, void *ctx,
		     const struct names_provider *names, char *path, size_t pathlen,
		     size_t *written)
{
	struct flow_rows fr = {n, row, ctx, names};

	return export_csv_write_with(dir, now, flow_body, &fr, path, pathlen, written);
}

int export_csv_write_with(const char *dir, time_t now, export_csv_body_fn body, void *ctx,
			  char *path, size_t pathlen, size_t *written)
{
	char tmp[64], name[64], stamp[32];
	int dfd, fd = -1, err = 0, attempt;
	FILE *out = NULL;
	struct tm tm;
	size_t rows = 0;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = open_temp(dfd, tmp, sizeof(tmp));
	if (fd < 0) {
		err = fd;
		fd = -1;
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
	err = body(out, ctx, &rows);
	if (err)
		goto out_unlink;
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
