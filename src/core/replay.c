/*
 * Pacing keeps one record read ahead: its timestamp says when it is due.
 * DNS records carry no time of their own and go out right after the record
 * before them, as they arrived.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct replay {
	struct record_reader *reader; /* owned */
	struct replay_cbs cbs;
	bool realtime;
	bool have_next, done;
	struct record_entry next; /* read ahead, not yet delivered */
	uint64_t first_rec_ns;	  /* when recording began */
	uint64_t first_play_ns;	  /* when replaying began */
	uint64_t last_rec_ns;
	uint64_t counters[TFT_CNT_MAX];
	uint64_t delivered;
};

struct replay *replay_new(const char *path, bool realtime, const struct replay_cbs *cbs,
			  struct record_file_info *info, char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->reader = record_reader_open(path, info, err, errlen);
	if (!r->reader) {
		int e = errno;

		free(r);
		errno = e;
		return NULL;
	}
	r->cbs = *cbs;
	r->realtime = realtime;
	/* The recording's start is the pace's origin: a quiet first minute replays as one. */
	r->first_rec_ns = r->last_rec_ns = info->start_ns;
	return r;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	record_reader_free(r->reader);
	free(r);
}

static uint64_t entry_ns(const struct replay *r, const struct record_entry *e)
{
	const struct tft_tcp_event *tcp = e->ring;

	if (e->kind == RECORD_COUNTERS)
		return e->counters.at_ns;
	if (tcp->type == TFT_REC_TCP)
		return tcp->ts_ns;
	if (tcp->type == TFT_REC_SOCK)
		return ((const struct tft_sock_event *)e->ring)->ts_ns;
	return r->last_rec_ns;
}

static void deliver(struct replay *r, const struct record_entry *e)
{
	const uint8_t *type = e->ring;

	r->delivered++;
	if (e->kind == RECORD_COUNTERS) {
		memcpy(r->counters, e->counters.total, sizeof(r->counters));
		if (r->cbs.on_counters)
			r->cbs.on_counters(&e->counters, r->cbs.ctx);
		return;
	}
	if (*type == TFT_REC_TCP && r->cbs.on_tcp)
		r->cbs.on_tcp(e->ring, r->cbs.ctx);
	else if (*type == TFT_REC_SOCK && r->cbs.on_sock)
		r->cbs.on_sock(e->ring, r->cbs.ctx);
	else if (*type == TFT_REC_DNS && r->cbs.on_dns)
		r->cbs.on_dns(e->ring, r->cbs.ctx);
	else if (*type == TFT_REC_OWNER && r->cbs.on_owner)
		r->cbs.on_owner(e->ring, r->cbs.ctx);
}

int replay_step(struct replay *r, uint64_t now_ns, size_t max, uint64_t *next_ns, char *err,
		size_t errlen)
{
	size_t n = 0;
	int rc;

	*next_ns = now_ns;
	while (!r->done) {
		if (!r->have_next) {
			rc = record_reader_next(r->reader, &r->next, err, errlen);
			if (rc <= 0) {
				r->done = true;
				return rc;
			}
			r->have_next = true;
		}
		if (n == max)
			return 1;
		if (r->realtime) {
			uint64_t at = entry_ns(r, &r->next);

			if (!r->first_play_ns)
				r->first_play_ns = now_ns;
			/* A clock that went back (another boot's file spliced in) plays at once. */
			if (at > r->first_rec_ns &&
			    at - r->first_rec_ns > now_ns - r->first_play_ns) {
				*next_ns = r->first_play_ns + (at - r->first_rec_ns);
				return 1;
			}
		}
		r->last_rec_ns = entry_ns(r, &r->next);
		/* The reader's buffer holds the record until the next read: deliver first. */
		r->have_next = false;
		deliver(r, &r->next);
		n++;
	}
	return 0;
}

uint64_t replay_counter(const struct replay *r, enum tft_counter idx)
{
	return idx < TFT_CNT_MAX ? r->counters[idx] : 0;
}

uint64_t replay_records(const struct replay *r)
{
	return r->delivered;
}

uint64_t replay_now(const struct replay *r)
{
	return r->last_rec_ns;
}
