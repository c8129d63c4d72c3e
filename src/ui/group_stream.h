/*
 * --group-by: the groups as blocks of lines, one block per interval and a
 * last one at exit, in the stream formats (text, CSV, JSON lines). Rows are
 * sorted by flows, most first. The fields are the group field table's.
 */
#ifndef TFT_GROUP_STREAM_H
#define TFT_GROUP_STREAM_H

#include <stdint.h>

#include "flow_groups.h"
#include "output_stream.h"

struct group_stream;

/* Writes to fd (borrowed) the groups of g (borrowed). NULL and errno on failure. */
struct group_stream *group_stream_new(int fd, enum output_format format,
				      const struct flow_groups *g);
void group_stream_free(struct group_stream *s);
/*
 * One block: every group as of at_ns (CLOCK_MONOTONIC; its rates look back
 * from it). Text: a line naming the block, the titles, the rows; CSV: one
 * header row before the first block, then rows led by time and group_by;
 * JSON: one object a row, "type":"group". Returns 0 or the first write
 * error as -errno (EPIPE when the reader left).
 */
int group_stream_block(struct group_stream *s, uint64_t at_ns);

#endif /* TFT_GROUP_STREAM_H */
