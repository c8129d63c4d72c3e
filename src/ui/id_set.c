#include <errno.h>
#include <stdlib.h>

#include "id_set.h"

#define ID_SET_MIN 64 /* slots; a power of two */

struct id_set {
	uint64_t *slot; /* owned; 0 is empty */
	size_t mask;	/* slots - 1 */
	size_t count;
};

static size_t home(const struct id_set *s, uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(id ^ (id >> 32)) & s->mask;
}

struct id_set *id_set_new(void)
{
	struct id_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->slot = calloc(ID_SET_MIN, sizeof(*s->slot));
	if (!s->slot) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->mask = ID_SET_MIN - 1;
	return s;
}

void id_set_free(struct id_set *s)
{
	if (!s)
		return;
	free(s->slot);
	free(s);
}

static void put(struct id_set *s, uint64_t id)
{
	size_t i = home(s, id);

	while (s->slot[i] && s->slot[i] != id)
		i = (i + 1) & s->mask;
	if (!s->slot[i]) {
		s->slot[i] = id;
		s->count++;
	}
}

/* Kept at most half full, so probes stay short. */
static int grow(struct id_set *s)
{
	uint64_t *old = s->slot;
	size_t n = s->mask + 1, i;

	s->slot = calloc(n * 2, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = old;
		return -ENOMEM;
	}
	s->mask = n * 2 - 1;
	s->count = 0;
	for (i = 0; i < n; i++)
		if (old[i])
			put(s, old[i]);
	free(old);
	return 0;
}

int id_set_add(struct id_set *s, uint64_t id)
{
	if (!id)
		return -EINVAL;
	if ((s->count + 1) * 2 > s->mask + 1 && grow(s))
		return -ENOMEM;
	put(s, id);
	return 0;
}

bool id_set_has(const struct id_set *s, uint64_t id)
{
	size_t i = home(s, id);

	if (!id)
		return false;
	for (; s->slot[i]; i = (i + 1) & s->mask)
		if (s->slot[i] == id)
			return true;
	return false;
}

void id_set_del(struct id_set *s, uint64_t id)
{
	size_t i = home(s, id), j, h;

	if (!id)
		return;
	while (s->slot[i] != id) {
		if (!s->slot[i])
			return;
		i = (i + 1) & s->mask;
	}
	/* Backward shift: move up every later entry whose home does not lie in (i, j]. */
	for (j = (i + 1) & s->mask; s->slot[j]; j = (j + 1) & s->mask) {
		h = home(s, s->slot[j]);
		if (((j - h) & s->mask) >= ((j - i) & s->mask)) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i] = 0;
	s->count--;
}
