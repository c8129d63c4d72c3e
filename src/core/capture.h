/* The BPF side: open, configure, load and attach the programs; read their ring buffer. */
#ifndef TFT_CAPTURE_H
#define TFT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tft_events.h"

#define TFT_RING_DEFAULT (4u << 20)
#define TFT_RING_MIN 4096u

/* The owner of the TCP record passed next (valid during the call): see capture_opts.on_owner. */
typedef void (*capture_owner_cb)(const struct tft_owner *owner, void *ctx);
/* A socket record (valid during the call), IPv4 ones as family 4 even from IPv6 sockets. */
typedef void (*capture_sock_cb)(const struct tft_sock_event *ev, void *ctx);

struct capture_opts {
	/* a cgroup v2 directory to attach to; NULL: load only (for BPF_PROG_TEST_RUN) */
	const char *cgroup_path;
	/*
	 * Power of two >= TFT_RING_MIN; 0 for TFT_RING_DEFAULT. Shared by the
	 * CPUs' rings: each gets this divided by the possible CPUs, rounded
	 * down to a power of two, and at least TFT_RING_MIN.
	 */
	size_t ring_bytes;
	bool verbose; /* let libbpf's debug messages through to stderr */
	/*
	 * Source ports whose UDP (and one-segment TCP) DNS responses are
	 * forwarded, host order, at most TFT_MAX_DNS_PORTS (53 is not implied:
	 * list it). Borrowed. n_dns_ports 0: no DNS records at all.
	 */
	const uint16_t *dns_ports;
	size_t n_dns_ports;
	/*
	 * cgroup_path's depth below the root of the hierarchy and its cgroup
	 * id (cgroup_level, cgroup_id). 0: the programs go on cgroup_path
	 * itself, with no filter. Above 0: they go on its parent and pass over
	 * every packet whose socket is not in the cgroup with this id or below
	 * it, so that capture_follow can turn them to a new cgroup at the same
	 * path with no privilege. Without cgroup_path: the filter for test runs.
	 */
	unsigned watch_level;
	uint64_t watch_cgroup_id;
	/*
	 * Called right before the TCP callback for a SYN whose socket's owner
	 * the programs knew (same ctx); NULL: owners are not read, and the
	 * cgroup/post_bind programs are not loaded.
	 */
	capture_owner_cb on_owner;
	/*
	 * Socket records (established, closed), in time order with the TCP
	 * records; NULL: outcomes are not read, and the sockops program is
	 * not loaded.
	 */
	capture_sock_cb on_sock;
};

/* Valid only during the call: copy what outlives it. */
typedef void (*capture_tcp_cb)(const struct tft_tcp_event *ev, void *ctx);
typedef void (*capture_dns_cb)(const struct tft_dns_event *ev, void *ctx);

struct capture;

/*
 * Loads and attaches both programs to opts->cgroup_path, or to its parent
 * (opts->watch_level). On failure returns NULL, sets errno, and writes a
 * one-line reason with its remedy into err (no program name prefix).
 */
struct capture *capture_new(const struct capture_opts *opts, capture_tcp_cb on_tcp,
			    capture_dns_cb on_dns, void *ctx, char *err, size_t errlen);
/* Detaches (links are destroyed), frees maps and programs. NULL is fine. */
void capture_free(struct capture *c);

/* An fd for epoll: readable when the programs forced a wakeup. */
int capture_fd(const struct capture *c);
/* A program's fd, for BPF_PROG_TEST_RUN. */
int capture_prog_fd(const struct capture *c, enum tft_hook hook);
/* Rings read: one per possible CPU. */
size_t capture_rings(const struct capture *c);
/*
 * Delivers every pending record to the callbacks: DNS records as read, then
 * the TCP records of every ring merged in time order. Returns records read
 * or -errno.
 */
int capture_drain(struct capture *c);
/* Events the programs could not queue because the ring buffer was full. */
uint64_t capture_lost(const struct capture *c);
/* Any counter of enum tft_counter, summed over CPUs. */
uint64_t capture_counter(const struct capture *c, enum tft_counter idx);

/*
 * Watches the cgroup with this id from now on, in place of the one given at
 * start: a write to the programs' memory-mapped globals, so it works after
 * every privilege is gone. -EOPNOTSUPP when the programs are not on the
 * parent (watch_level 0).
 */
int capture_follow(struct capture *c, uint64_t cgroup_id);
/* True when capture_follow can work: the programs are on the watched cgroup's parent. */
bool capture_follows(const struct capture *c);

/*
 * Why sockets get no owner, or NULL when they do: the kernel lacks the
 * helpers or could not load or attach cgroup/post_bind (flows still show),
 * or owners were not asked for. Borrowed, as long as c lives.
 */
const char *capture_owner_off(const struct capture *c);

/* Why flows get no outcomes (the sockops program is missing), or NULL; as capture_owner_off. */
const char *capture_outcomes_off(const struct capture *c);

/* Checks a ring size: power of two, at least TFT_RING_MIN. */
bool capture_ring_size_valid(size_t bytes);

#endif /* TFT_CAPTURE_H */
