/*
 * A set of flow ids (never 0): open addressing with linear probing, grown
 * as needed, deletion by backward shift so no tombstones pile up. The
 * stream keeps here the flows it introduced that may still change.
 */
#ifndef TFT_ID_SET_H
#define TFT_ID_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_set;

/* NULL and errno on failure. */
struct id_set *id_set_new(void);
void id_set_free(struct id_set *s);

/* 0, or -ENOMEM (the set is unchanged). id 0 is -EINVAL. */
int id_set_add(struct id_set *s, uint64_t id);
bool id_set_has(const struct id_set *s, uint64_t id);
/* Removes id if present. */
void id_set_del(struct id_set *s, uint64_t id);

#endif /* TFT_ID_SET_H */
