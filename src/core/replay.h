/*
 * A record file (-r) as a capture: its records go to the same callbacks a
 * live capture calls, at full speed or at the recorded pace, and its
 * counters read as the programs' did.
 */
#ifndef TFT_REPLAY_H
#define TFT_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "record_file.h"

/* The programs' counters changed to c (borrowed, valid during the call). */
typedef void (*replay_counters_cb)(const struct record_counters *c, void *ctx);

/* The owner of the TCP record delivered next (borrowed, valid during the call). */
typedef void (*replay_owner_cb)(const struct record_owner *o, void *ctx);

struct replay_cbs {
	capture_tcp_cb on_tcp;
	capture_dns_cb on_dns;
	replay_counters_cb on_counters;
	void *ctx;		  /* borrowed */
	replay_owner_cb on_owner; /* NULL: owners are skipped */
	capture_sock_cb on_sock;  /* NULL: socket records are skipped */
};

struct replay;

/* Opens path ("-": stdin) and reads its header into *info. NULL, errno and one line in err. */
struct replay *replay_new(const char *path, bool realtime, const struct replay_cbs *cbs,
			  struct record_file_info *info, char *err, size_t errlen);
void replay_free(struct replay *r);

/*
 * Delivers the records due at now_ns (CLOCK_MONOTONIC; with realtime, the
 * first record is due at the first call and the others at their recorded
 * distance from it), at most max of them. Returns 1 with *next_ns the
 * instant the next one is due, 0 once the file is done, or -errno with one
 * line in err naming the offset of the bad record (every record before it
 * was delivered).
 */
int replay_step(struct replay *r, uint64_t now_ns, size_t max, uint64_t *next_ns, char *err,
		size_t errlen);
/* The counters as the last counters record left them. */
uint64_t replay_counter(const struct replay *r, enum tft_counter idx);
/* Records delivered so far. */
uint64_t replay_records(const struct replay *r);
/* The recorded time (CLOCK_MONOTONIC) of the last record delivered, or the start. */
uint64_t replay_now(const struct replay *r);

#endif /* TFT_REPLAY_H */
