/*
 * The names of each address, asked once per frame. A frame filters and sorts
 * up to the whole table, and rows share addresses (a storm to one server is
 * 100,000 rows and one address): asking the provider per row, or per
 * comparison, cost half a second a frame. The memo asks once per distinct
 * address, keeps the names as a list (copied: the provider's bytes are
 * borrowed) and the screen's escaped text of them, and hands both out by
 * index, so a sort by names becomes a sort of the distinct names plus a
 * radix on their ranks, and a filter word is matched once per address.
 *
 * Names change between frames (answers, expiry), so each frame starts with
 * names_memo_reset. When the provider has a generation and it has not
 * moved, the memo keeps what it learnt (for a few seconds at most, and up
 * to a bound of addresses): a frame after a key press then asks nothing.
 */
#ifndef TFT_NAMES_MEMO_H
#define TFT_NAMES_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"

#include "names_provider.h"

/* Longest escaped names text kept per address, NUL included: what sorting and filters read. */
#define NAMES_MEMO_TEXT_MAX 4096

struct names_memo;

struct names_memo *names_memo_new(void);
void names_memo_free(struct names_memo *m);

/*
 * Starts a frame: forgets every address unless inner is the provider of the
 * last frame and its generation has not moved; clears the filter marks.
 * Later lookups ask inner (borrowed, may be NULL: no names).
 */
void names_memo_reset(struct names_memo *m, const struct names_provider *inner);
/* Changes whenever the memo forgot its addresses: indexes from before are void. */
uint64_t names_memo_epoch(const struct names_memo *m);

/*
 * The index of addr's entry (family 4 or 6, 16 bytes), asking inner the
 * first time this frame. Indexes run from 0 to names_memo_count() - 1 in
 * first-asked order. -1 when memory is short.
 */
long names_memo_index(struct names_memo *m, uint8_t family, const uint8_t *addr);
/*
 * A hint that addr will be asked for soon: a loop over rows calls it a few
 * rows ahead, so the lookup finds its slot in cache (the flows streaming
 * through evict it otherwise). Changes nothing.
 */
void names_memo_prefetch(const struct names_memo *m, uint8_t family, const uint8_t *addr);

/*
 * names_memo_index of one end of a flow (src: its source), remembered by
 * flow id while the memo keeps its addresses: a row costs a load, not a
 * hash probe. -1 when memory is short.
 */
long names_memo_flow_index(struct names_memo *m, const struct tft_flow *f, bool src);
/* As names_memo_prefetch, for names_memo_flow_index a few rows ahead. */
void names_memo_flow_prefetch(const struct names_memo *m, const struct tft_flow *f, bool src);
size_t names_memo_count(const struct names_memo *m);
/*
 * The names of an entry as the screen writes them out in full: escaped,
 * PTR names marked '~', joined by ','. "" for none or out of range.
 */
const char *names_memo_text(const struct names_memo *m, size_t index);
/* The names of an entry as a list (bytes borrowed until the next reset); returns out. */
const struct names_list *names_memo_list(const struct names_memo *m, size_t index,
					 struct names_list *out);
/* The address of an entry (16 bytes) and its family. */
const uint8_t *names_memo_addr(const struct names_memo *m, size_t index, uint8_t *family);

/*
 * Per-entry room for a frame's filter: known says which word terms were
 * decided for this address, hit which of those matched. Zero after each
 * reset; the filter fills them. NULL out of range.
 */
struct names_memo_marks {
	uint32_t known;
	uint32_t hit;
};
struct names_memo_marks *names_memo_marks(struct names_memo *m, size_t index);

/*
 * A provider answering from the memo (asking inner on a miss), for code that
 * takes a provider: cells, the export. Valid while m lives.
 */
struct names_provider names_memo_provider(struct names_memo *m);

#endif /* TFT_NAMES_MEMO_H */
