/*
 * Bounded table of TCP flows keyed by family, direction, addresses and ports.
 * When full, the flow that ended first makes room; an open flow only when
 * none has ended.
 */
#ifndef TFT_FLOW_TABLE_H
#define TFT_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tft_events.h"

enum tft_direction {
	TFT_DIR_IN = 1,	 /* the SYN came in: a peer connects to this host */
	TFT_DIR_OUT = 2, /* the SYN went out: this host connects to a peer */
};

/*
 * Where a flow is in its life: pending -> accepted -> established -> closed,
 * or refused, unanswered, half-open. An outgoing flow is established on our
 * side as soon as its SYN-ACK arrives, so it goes from accepted to closed.
 */
enum tft_flow_state {
	TFT_STATE_PENDING = 0,	   /* SYN seen, no answer yet */
	TFT_STATE_ACCEPTED = 1,	   /* SYN-ACK seen */
	TFT_STATE_REFUSED = 2,	   /* RST answered the SYN */
	TFT_STATE_ESTABLISHED = 3, /* incoming: the handshake's final ACK arrived */
	TFT_STATE_CLOSED = 4,	   /* an established connection ended (FIN or RST): see end */
	TFT_STATE_UNANSWERED = 5,  /* no answer within the SYN timeout */
	TFT_STATE_HALF_OPEN = 6,   /* incoming: SYN-ACK sent, the final ACK never came */
};

/* How a flow ended; TFT_END_NONE while it runs. */
enum tft_flow_end {
	TFT_END_NONE = 0,
	TFT_END_FIN_LOCAL = 1,	 /* FIN, this host closed first */
	TFT_END_FIN_PEER = 2,	 /* FIN, the peer closed first */
	TFT_END_RESET_PEER = 3,	 /* the peer reset it (refused, for an outgoing SYN) */
	TFT_END_RESET_LOCAL = 4, /* this host reset it (refused, for an incoming SYN) */
	TFT_END_TIMEOUT = 5,	 /* unanswered, or retransmissions ran out */
	TFT_END_HALF_OPEN = 6,	 /* the handshake never completed */
	TFT_END_OPEN = 7,	 /* still open when it left the table or tcpflowtop stopped */
};

/* struct tft_flow flags. */
#define TFT_FLOW_F_SYNCOOKIE 0x01 /* established though its SYN-ACK was never seen */
#define TFT_FLOW_F_IDLE 0x02	  /* established, no data either way for the idle time */
#define TFT_FLOW_F_FIGURES 0x04	  /* bytes, rtt and retransmissions below are known */
#define TFT_FLOW_F_RST_IN 0x08	  /* a RST arrived after the handshake: the peer reset it */

/* The initiator is always the source: for an incoming flow, the remote peer. */
struct tft_flow_key {
	uint8_t family; /* 4 or 6 */
	uint8_t dir;	/* enum tft_direction */
	uint16_t sport; /* host order */
	uint16_t dport; /* host order */
	uint8_t saddr[16];
	uint8_t daddr[16];
};

/* Whether a flow's owner is known, and if not, why. */
enum tft_owner_state {
	/* its SYN came without one: the socket predates the capture, or the recording has none */
	TFT_OWNER_UNKNOWN = 0,
	TFT_OWNER_KNOWN = 1,
	TFT_OWNER_NO_HOOK = 2, /* the kernel could not run the owner hook (capture_owner_off) */
};

/* Who opened a flow: the owner of its SYN's socket (the listener's, for an incoming flow). */
struct tft_flow_owner {
	uint64_t cgroup_id; /* cgroup v2 id */
	uint32_t tgid;
	uint32_t uid;
	char comm[16]; /* untrusted bytes, NUL-padded, maybe unterminated */
	uint8_t state; /* enum tft_owner_state */
};

struct tft_flow {
	uint64_t id; /* increases by one per new flow, never reused: selection follows it */
	struct tft_flow_key key;
	uint64_t syn_ns;    /* first SYN, CLOCK_MONOTONIC */
	uint64_t answer_ns; /* SYN-ACK or RST, 0 while pending */
	uint32_t isn;	    /* the SYN's sequence number: a retransmission repeats it */
	uint16_t syn_retrans;
	uint8_t state; /* enum tft_flow_state */
	uint8_t end;   /* enum tft_flow_end */
	uint8_t flags; /* TFT_FLOW_F_* */
	struct tft_flow_owner owner;
	uint64_t end_ns; /* when it ended (end != TFT_END_NONE), CLOCK_MONOTONIC */
	/* The socket's own figures, sampled while open and final at close (TFT_FLOW_F_FIGURES). */
	uint64_t bytes_in;     /* payload bytes received */
	uint64_t bytes_out;    /* payload bytes sent and acknowledged */
	uint32_t segs_in;      /* segments received */
	uint32_t segs_out;     /* segments sent */
	uint32_t rtt_us;       /* smoothed round-trip time */
	uint32_t data_retrans; /* segments sent again after the handshake */
};

/* What one TCP record did to the table. */
enum tft_flow_change {
	TFT_CHANGE_NONE = 0,	/* unrelated packet: no flow known, or already answered */
	TFT_CHANGE_NEW = 1,	/* a flow was created */
	TFT_CHANGE_RETRANS = 2, /* a pending flow's SYN was sent again */
	TFT_CHANGE_STATE =
	    3, /* a pending flow was accepted or refused; an incoming one established */
	TFT_CHANGE_END = 4,    /* the flow ended: end, end_ns and the final figures are set */
	TFT_CHANGE_UPDATE = 5, /* figures or the idle flag moved; state unchanged */
};

/*
 * Whether a change ended the flow: TFT_CHANGE_END, or a refusal, which is
 * told once as the state change it is (TFT_CHANGE_STATE, end already set).
 */
static inline bool flow_change_ends(const struct tft_flow *f, enum tft_flow_change change)
{
	return change == TFT_CHANGE_END || (change == TFT_CHANGE_STATE && f->end != TFT_END_NONE);
}

struct flow_table_stats {
	uint64_t seen;		  /* flows created since start */
	uint64_t seen_in;	  /* of which incoming */
	uint64_t seen_out;	  /* of which outgoing */
	uint64_t accepted;	  /* flows accepted since start */
	uint64_t refused;	  /* flows refused since start */
	uint64_t retrans;	  /* SYN retransmissions since start */
	uint64_t evicted;	  /* oldest flows dropped to make room */
	uint64_t evicted_pending; /* of which still pending: their answer, if any, went unseen */
	uint64_t evicted_open;	  /* of which still open: no ended flow was left to make room */
	uint64_t established;	  /* incoming flows whose handshake completed */
	uint64_t syncookies;	  /* of which answered by a SYN cookie (no SYN-ACK seen) */
	uint64_t half_open;	  /* incoming flows whose final ACK never came */
	uint64_t ends[TFT_END_OPEN + 1]; /* flows ended, by enum tft_flow_end */
};

/* Timers of flow_table_expire, in nanoseconds. */
struct flow_timeouts {
	uint64_t syn_ns;       /* a SYN unanswered this long: unanswered (ended, timeout) */
	uint64_t half_open_ns; /* an accepted incoming flow not established this long: half-open */
};

struct flow_table;

/* A flow is about to leave the table to make room: its last state, borrowed for the call. */
typedef void (*flow_table_evict_cb)(const struct tft_flow *f, void *ctx);

/* capacity >= 1. Returns NULL and sets errno on failure. */
struct flow_table *flow_table_new(size_t capacity);
void flow_table_free(struct flow_table *t);
/* Who hears about evictions (NULL: nobody); the callback must not touch the table. */
void flow_table_set_evict_cb(struct flow_table *t, flow_table_evict_cb cb, void *ctx);

/*
 * Applies one TCP record. When the result is not TFT_CHANGE_NONE, *flow (if
 * non-NULL) points at the flow it touched: borrowed, valid until the next
 * call that mutates the table.
 */
enum tft_flow_change flow_table_apply(struct flow_table *t, const struct tft_tcp_event *ev,
				      const struct tft_flow **flow);

/*
 * An answer (SYN-ACK, RST-ACK) that finds no pending flow is kept aside for
 * a while (up to 1024 answers, 2 s of record time): with a ring per CPU, the
 * reader may reach a SYN-ACK before the SYN it answers. Right after an apply
 * that returned TFT_CHANGE_NEW, this applies the kept answer to that new
 * flow, if any: TFT_CHANGE_STATE with *flow (as for flow_table_apply) and
 * *at_ns, the answer's time; else TFT_CHANGE_NONE.
 */
enum tft_flow_change flow_table_apply_early(struct flow_table *t, const struct tft_flow **flow,
					    uint64_t *at_ns);

/*
 * Applies one socket record: an incoming flow established, or a flow ended
 * with its final figures (TFT_CHANGE_STATE, TFT_CHANGE_END; NONE when no flow
 * held matches: a socket older than the capture, or its flow evicted). *flow
 * as for flow_table_apply.
 */
enum tft_flow_change flow_table_apply_sock(struct flow_table *t, const struct tft_sock_event *ev,
					   const struct tft_flow **flow);

/*
 * Whether established incoming flows report so (the sockops program runs):
 * only then can an accepted incoming flow be called half-open.
 */
void flow_table_set_outcomes(struct flow_table *t, bool on);

/* A flow that changed in flow_table_expire or flow_table_sample, borrowed for the call. */
typedef void (*flow_table_change_cb)(const struct tft_flow *f, enum tft_flow_change change,
				     void *ctx);

/*
 * Ends what the timers say at now_ns (record time): pending flows older than
 * syn_ns become unanswered, accepted incoming ones older than half_open_ns
 * (without a loss that might hold their establishment) half-open; each told
 * to cb with TFT_CHANGE_END. An answer or establishment coming later still
 * counts. O(flows open).
 */
void flow_table_expire(struct flow_table *t, uint64_t now_ns, const struct flow_timeouts *to,
		       flow_table_change_cb cb, void *ctx);

/* A socket's counters as sampled (sock_diag), for the open flow with this key. */
struct flow_sample {
	uint64_t bytes_in, bytes_out;
	uint32_t segs_in, segs_out, rtt_us, retrans;
	bool idle; /* no data either way for the idle time */
};

/*
 * Updates an open flow's figures from a sample; TFT_CHANGE_UPDATE when its
 * idle flag turned (then *flow is set), else TFT_CHANGE_NONE (figures may
 * still have moved).
 */
enum tft_flow_change flow_table_sample(struct flow_table *t, const struct tft_flow_key *key,
				       const struct flow_sample *s, const struct tft_flow **flow);

/* Sets the owner of the flow with this id, if it is still held. */
void flow_table_set_owner(struct flow_table *t, uint64_t id, const struct tft_flow_owner *owner);

/* The newest flow with this key, or NULL. */
const struct tft_flow *flow_table_find(const struct flow_table *t, const struct tft_flow_key *key);

/* Flows held now (<= capacity). */
size_t flow_table_count(const struct flow_table *t);
size_t flow_table_capacity(const struct flow_table *t);

/*
 * Every flow held, oldest first: flow_table_first, then flow_table_next
 * until NULL. The table must not change in between.
 */
const struct tft_flow *flow_table_first(const struct flow_table *t);
const struct tft_flow *flow_table_next(const struct flow_table *t, const struct tft_flow *f);

/*
 * The flow in storage slot i (0 <= i < flow_table_slots), or NULL for a free
 * one: every flow held once, in no particular order, for a fast scan.
 */
size_t flow_table_slots(const struct flow_table *t);
const struct tft_flow *flow_table_slot(const struct flow_table *t, size_t i);

/* The flow with this id if it is still held, else NULL. O(1). */
const struct tft_flow *flow_table_by_id(const struct flow_table *t, uint64_t id);

/* Drops every flow; ids keep increasing and the counters keep counting. */
void flow_table_clear(struct flow_table *t);

const struct flow_table_stats *flow_table_stats(const struct flow_table *t);

/*
 * Events were lost (the ring was full): every flow held and pending now may
 * have lost its answer among them, so it is no longer counted unanswered
 * but unsure, until an answer does come.
 */
void flow_table_mark_loss(struct flow_table *t);
/* Flows held and pending that no loss could have answered: really unanswered so far. */
uint64_t flow_table_unanswered(const struct flow_table *t);
/* Flows held and pending whose answer may have been among lost events. */
uint64_t flow_table_unsure(const struct flow_table *t);

#endif /* TFT_FLOW_TABLE_H */
