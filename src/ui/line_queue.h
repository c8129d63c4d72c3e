/* Stream records held back for their names (--resolve-wait), in arrival order. */
#ifndef TFT_LINE_QUEUE_H
#define TFT_LINE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"

struct held_line {
	struct tft_flow flow; /* a copy: the table may evict the flow meanwhile */
	enum tft_flow_change change;
	uint64_t at_ns;	      /* when the change happened */
	uint64_t deadline_ns; /* print by then, names or not */
};

struct line_queue;

/* capacity >= 1; NULL and errno on failure. */
struct line_queue *line_queue_new(size_t capacity);
void line_queue_free(struct line_queue *q);

/* False when full: the caller prints the oldest first to make room. */
bool line_queue_push(struct line_queue *q, const struct held_line *line);
/* The oldest held line (borrowed until the next push or pop), or NULL. */
const struct held_line *line_queue_head(const struct line_queue *q);
void line_queue_pop(struct line_queue *q);
size_t line_queue_count(const struct line_queue *q);

#endif /* TFT_LINE_QUEUE_H */
