#include <errno.h>
#include <stdlib.h>

#include "line_queue.h"

struct line_queue {
	struct held_line *lines; /* owned ring */
	size_t capacity, head, count;
};

struct line_queue *line_queue_new(size_t capacity)
{
	struct line_queue *q;

	if (!capacity) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->lines = calloc(capacity, sizeof(*q->lines));
	if (!q->lines) {
		free(q);
		return NULL;
	}
	q->capacity = capacity;
	return q;
}

void line_queue_free(struct line_queue *q)
{
	if (!q)
		return;
	free(q->lines);
	free(q);
}

bool line_queue_push(struct line_queue *q, const struct held_line *line)
{
	if (q->count == q->capacity)
		return false;
	q->lines[(q->head + q->count) % q->capacity] = *line;
	q->count++;
	return true;
}

const struct held_line *line_queue_head(const struct line_queue *q)
{
	return q->count ? &q->lines[q->head] : NULL;
}

void line_queue_pop(struct line_queue *q)
{
	if (!q->count)
		return;
	q->head = (q->head + 1) % q->capacity;
	q->count--;
}

size_t line_queue_count(const struct line_queue *q)
{
	return q->count;
}
