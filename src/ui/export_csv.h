/* A CSV snapshot of the rows the screen shows, for a spreadsheet or a ticket. */
#ifndef TFT_EXPORT_CSV_H
#define TFT_EXPORT_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "flow_table.h"
#include "names_provider.h"

/* Returns the row's flow, or NULL to skip it (a flow evicted since the view was built). */
typedef const struct tft_flow *(*export_csv_row_fn)(void *ctx, size_t i);

/*
 * Writes rows 0..n-1 (in that order) with a header row to
 * DIR/tcpflowtop-YYYYmmdd-HHMMSS.csv (now in local time; "-2", "-3"... when
 * that name exists), RFC 4180: CRLF line ends, fields with a comma, quote or
 * line break quoted, and a leading = + - @ defused with a quote character so
 * a spreadsheet never runs a name as a formula. The file is written under an
 * unpredictable temporary name (.tcpflowtop-RANDOM.tmp, another tried when
 * one exists), created O_EXCL|O_NOFOLLOW with mode 0600, and renamed
 * without replacing anything (so never through a symlink). On success puts
 * the path in path and the rows written in *written. Returns 0 or -errno
 * (-ENOSPC, -EROFS, -EACCES...); nothing is left behind on failure.
 */
int export_csv_write(const char *dir, time_t now, size_t n, export_csv_row_fn row, void *ctx,
		     const struct names_provider *names, char *path, size_t pathlen,
		     size_t *written);

/*
 * Writes the rows into out: header and rows, CRLF line ends, each cell
 * through export_csv_field. Sets *rows to the rows written. 0 or -errno.
 */
typedef int (*export_csv_body_fn)(FILE *out, void *ctx, size_t *rows);

/*
 * The same safe file as export_csv_write (name, mode, O_EXCL, rename
 * without replacing, nothing left on failure) with any table: body writes
 * it. For the group views' export.
 */
int export_csv_write_with(const char *dir, time_t now, export_csv_body_fn body, void *ctx,
			  char *path, size_t pathlen, size_t *written);

/* One CSV field, quoted and defused as above. Exposed for tests. Returns 0 or -errno. */
int export_csv_field(FILE *out, const char *text);

/*
 * A failed stdio write as -errno: ENOSPC on a full disk, not a generic EIO.
 * Set errno to 0 before the writes it reports on.
 */
int export_csv_write_error(void);

#endif /* TFT_EXPORT_CSV_H */
