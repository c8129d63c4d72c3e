/*
 * Lifecycle as in libbpf-bootstrap: open, set rodata and map sizes, load,
 * attach, ring_buffer__new. cgroup_skb programs are not attached by the
 * skeleton's __attach, so the links are stored in skel->links for __destroy:
 * they are file descriptors, so nothing stays attached when the process dies.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "err_msg.h"
#include "tcpflow.skel.h"

/* A staged TCP record's place in the drain's order. */
struct stage_key {
	uint64_t ts_ns;
	uint32_t idx; /* into stage[]; breaks ties in the order read */
};

/* TCP and socket records held within one drain, at most this many before they are passed on. */
#define STAGE_MAX 16384

/* A staged record: the type byte says which. */
union staged_rec {
	__u8 type; /* TFT_REC_TCP or TFT_REC_SOCK */
	struct tft_tcp_event tcp;
	struct tft_sock_event sock;
};

struct capture {
	struct tcpflow_bpf *skel; /* owned */
	struct ring_buffer *rb;	  /* owned */
	int *ring_fds;		  /* owned, nrings fds, -1 when not created */
	size_t nrings;
	union staged_rec *stage;  /* owned, STAGE_MAX records */
	struct tft_owner *owners; /* owned, STAGE_MAX: stage[i]'s owner when has_owner[i] */
	bool *has_owner;	  /* owned, STAGE_MAX */
	struct stage_key *keys;	  /* owned, STAGE_MAX */
	size_t nstage;
	bool stage_unsorted;
	capture_tcp_cb on_tcp;
	capture_dns_cb on_dns;
	capture_owner_cb on_owner;
	capture_sock_cb on_sock;
	void *ctx;	     /* borrowed */
	char owner_off[160]; /* why sockets get no owner; "" when they do */
	char sock_off[160];  /* why sockets report no outcome; "" when they do */
};

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	if (!verbose_libbpf)
		return 0; /* failures are reported by our own one-line messages */
	return vfprintf(stderr, fmt, args);
}

bool capture_ring_size_valid(size_t bytes)
{
	return bytes >= TFT_RING_MIN && (bytes & (bytes - 1)) == 0 && bytes <= (1u << 30);
}

static int key_cmp(const void *a, const void *b)
{
	const struct stage_key *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Passes the staged TCP records on in time order. Each ring is in order, but
 * a drain reads the rings one after the other, so a SYN-ACK read from one
 * CPU's ring may precede its SYN from another's; their own timestamps put
 * them back in the order the packets were seen.
 */
static void flush_stage(struct capture *c)
{
	size_t i;

	if (c->stage_unsorted)
		qsort(c->keys, c->nstage, sizeof(c->keys[0]), key_cmp);
	for (i = 0; i < c->nstage; i++) {
		uint32_t k = c->keys[i].idx;

		if (c->stage[k].type == TFT_REC_SOCK) {
			if (c->on_sock)
				c->on_sock(&c->stage[k].sock, c->ctx);
			continue;
		}
		if (c->has_owner[k] && c->on_owner)
			c->on_owner(&c->owners[k], c->ctx);
		if (c->on_tcp)
			c->on_tcp(&c->stage[k].tcp, c->ctx);
	}
	c->nstage = 0;
	c->stage_unsorted = false;
}

/* The next free stage slot, passing the stage on first when it is full. */
static union staged_rec *stage_slot(struct capture *c)
{
	if (c->nstage == STAGE_MAX)
		flush_stage(c);
	return &c->stage[c->nstage];
}

/* Stages the record just written into stage_slot(); owner NULL when it has none. */
static void staged(struct capture *c, uint64_t ts_ns, const struct tft_owner *owner)
{
	size_t n = c->nstage;

	c->has_owner[n] = owner != NULL;
	if (owner)
		c->owners[n] = *owner;
	c->keys[n].ts_ns = ts_ns;
	c->keys[n].idx = (uint32_t)n;
	if (n > 0 && ts_ns < c->keys[n - 1].ts_ns)
		c->stage_unsorted = true;
	c->nstage = n + 1;
}

/* An IPv6 socket talking IPv4 reports v4-mapped addresses; its packets are IPv4 records. */
static void unmap_v4(struct tft_sock_event *ev)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (ev->family != 6 || memcmp(ev->laddr, prefix, 12) || memcmp(ev->raddr, prefix, 12))
		return;
	ev->family = 4;
	memmove(ev->laddr, ev->laddr + 12, 4);
	memmove(ev->raddr, ev->raddr + 12, 4);
	memset(ev->laddr + 4, 0, 12);
	memset(ev->raddr + 4, 0, 12);
}

/*
 * DNS answers go on at once, TCP records at the end of the drain: an answer
 * was read by the application before it connected, so names are known before
 * the flows of the same drain that may use them.
 */
static int on_record(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const __u8 *type = data;

	if (size < 1)
		return 0;
	switch (*type) {
	case TFT_REC_TCP4:
	case TFT_REC_TCP4_OWNED:
		if (size >= sizeof(struct tft_tcp4_rec)) {
			const struct tft_tcp4_rec *r = data;
			const struct tft_tcp4_owned_rec *o = data;
			struct tft_tcp_event *ev = &stage_slot(c)->tcp;

			memset(ev, 0, sizeof(*ev));
			ev->type = TFT_REC_TCP;
			ev->flags = r->flags;
			ev->hook = r->hook;
			ev->family = 4;
			ev->sport = r->sport;
			ev->dport = r->dport;
			ev->ts_ns = r->ts_ns;
			ev->seq = r->seq;
			ev->ack = r->ack;
			memcpy(ev->saddr, r->saddr, 4);
			memcpy(ev->daddr, r->daddr, 4);
			staged(c, ev->ts_ns,
			       *type == TFT_REC_TCP4_OWNED && size >= sizeof(*o) ? &o->owner
										 : NULL);
		}
		break;
	case TFT_REC_TCP:
	case TFT_REC_TCP_OWNED:
		if (size >= sizeof(struct tft_tcp_event)) {
			const struct tft_tcp_owned_event *o = data;
			struct tft_tcp_event *ev = &stage_slot(c)->tcp;

			memcpy(ev, data, sizeof(*ev));
			ev->type = TFT_REC_TCP;
			staged(c, ev->ts_ns,
			       *type == TFT_REC_TCP_OWNED && size >= sizeof(*o) ? &o->owner : NULL);
		}
		break;
	case TFT_REC_SOCK:
		if (size >= sizeof(struct tft_sock_event)) {
			struct tft_sock_event *ev = &stage_slot(c)->sock;

			memcpy(ev, data, sizeof(*ev));
			unmap_v4(ev);
			staged(c, ev->ts_ns, NULL);
		}
		break;
	case TFT_REC_DNS:
		if (size >= sizeof(struct tft_dns_event) && c->on_dns)
			c->on_dns(data, c->ctx);
		break;
	default:
		break; /* a newer program's record: skip it */
	}
	return 0;
}

static const char *perm_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return " (run as root, or grant CAP_BPF and CAP_NET_ADMIN)";
	return "";
}

/* Each CPU's ring: ring / nrings rounded down to a power of two, at least TFT_RING_MIN. */
static size_t ring_per_cpu(size_t ring, size_t nrings)
{
	size_t each = TFT_RING_MIN, page = (size_t)sysconf(_SC_PAGESIZE);

	while (each * 2 <= ring / nrings)
		each *= 2;
	return each < page ? page : each;
}

/* Before load: a ring per CPU; the first is also the template the programs are checked against. */
static int create_rings(struct capture *c, size_t each, char *err, size_t errlen)
{
	int e;

	for (size_t i = 0; i < c->nrings; i++) {
		c->ring_fds[i] =
		    bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tft_ring", 0, 0, (__u32)each, NULL);
		if (c->ring_fds[i] < 0) {
			e = errno;
			err_msg(
			    err, errlen, "creating ring buffer %zu of %zu (%zu bytes) failed: %s%s",
			    i + 1, c->nrings, each, strerror(e),
			    e == ENOMEM || e == EPERM ? " (raise RLIMIT_MEMLOCK, or give a smaller "
							"--ring-size)"
						      : perm_hint(e));
			return -e;
		}
	}
	/* libbpf 1.1 cannot resize the template it would make itself from the BTF. */
	e = -bpf_map__set_inner_map_fd(c->skel->maps.rings, c->ring_fds[0]);
	if (e)
		err_msg(err, errlen, "setting up the ring buffer array failed: %s", strerror(e));
	return -e;
}

/* After load: each ring in the programs' array, all in one ring_buffer manager (one epoll fd). */
static int fill_rings(struct capture *c, char *err, size_t errlen)
{
	int outer = bpf_map__fd(c->skel->maps.rings), e;

	for (size_t i = 0; i < c->nrings; i++) {
		__u32 key = (__u32)i;

		if (bpf_map_update_elem(outer, &key, &c->ring_fds[i], BPF_ANY) < 0) {
			e = errno;
			err_msg(
			    err, errlen,
			    "this kernel cannot hold ring buffers in a map array: %s (Linux 5.8 "
			    "or later needed)",
			    strerror(e));
			return -e;
		}
		if (i == 0)
			c->rb = ring_buffer__new(c->ring_fds[0], on_record, c, NULL);
		if (!c->rb ||
		    (i > 0 && ring_buffer__add(c->rb, c->ring_fds[i], on_record, c) < 0)) {
			e = errno;
			err_msg(err, errlen, "mapping the ring buffer failed: %s", strerror(e));
			return -e;
		}
	}
	return 0;
}

/*
 * Owners need the current task's helpers in cgroup_skb programs (outgoing
 * SYNs) and socket storage in cgroup/post_bind (listeners): without them the
 * post_bind programs are left out and flows come without owners, rather
 * than not at all.
 */
static void owners_before_load(struct capture *c)
{
	if (!c->on_owner) {
		snprintf(c->owner_off, sizeof(c->owner_off), "not asked for");
	} else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_current_pid_tgid,
					   NULL) <= 0 ||
		   libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_current_comm,
					   NULL) <= 0) {
		snprintf(c->owner_off, sizeof(c->owner_off),
			 "this kernel does not let packet programs read the current process");
	} else if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK, BPF_FUNC_sk_storage_get,
					   NULL) <= 0) {
		snprintf(c->owner_off, sizeof(c->owner_off),
			 "this kernel has no socket storage for cgroup/post_bind (Linux 5.11 or "
			 "later needed)");
	} else {
		c->skel->rodata->owners_on = true;
		return;
	}
	bpf_program__set_autoload(c->skel->progs.tft_post_bind4, false);
	bpf_program__set_autoload(c->skel->progs.tft_post_bind6, false);
}

/*
 * After the packet programs: a failure here leaves listeners without owners
 * (outgoing flows keep theirs; listeners fall back to /proc), and says why.
 */
static void owners_attach(struct capture *c, int cgfd)
{
	if (c->owner_off[0])
		return;
	c->skel->links.tft_post_bind4 =
	    bpf_program__attach_cgroup(c->skel->progs.tft_post_bind4, cgfd);
	if (c->skel->links.tft_post_bind4)
		c->skel->links.tft_post_bind6 =
		    bpf_program__attach_cgroup(c->skel->progs.tft_post_bind6, cgfd);
	if (!c->skel->links.tft_post_bind4 || !c->skel->links.tft_post_bind6)
		snprintf(c->owner_off, sizeof(c->owner_off),
			 "attaching cgroup/post_bind failed: %s", strerror(errno));
}

/*
 * Outcomes need the sockops program (state callbacks, Linux 4.16; the
 * counters it reads, 5.x): without it flows still show, without outcomes.
 */
static void outcomes_before_load(struct capture *c)
{
	if (!c->on_sock)
		snprintf(c->sock_off, sizeof(c->sock_off), "not asked for");
	else if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCK_OPS, NULL) <= 0)
		snprintf(c->sock_off, sizeof(c->sock_off),
			 "this kernel cannot run sockops programs");
	else
		return;
	bpf_program__set_autoload(c->skel->progs.tft_sockops, false);
}

/*
 * On the watched cgroup itself, even when the packet programs are on its
 * parent: a sibling's sockets then run none of its callbacks. A cgroup
 * recreated at the path (capture_follow) is seen without outcomes.
 */
static void outcomes_attach(struct capture *c, const char *path)
{
	int fd, e = 0;

	if (c->sock_off[0])
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
	} else {
		c->skel->links.tft_sockops =
		    bpf_program__attach_cgroup(c->skel->progs.tft_sockops, fd);
		if (!c->skel->links.tft_sockops)
			e = errno;
		close(fd);
	}
	if (e)
		snprintf(c->sock_off, sizeof(c->sock_off), "attaching sockops failed: %s",
			 strerror(e));
}

const char *capture_outcomes_off(const struct capture *c)
{
	return c->sock_off[0] ? c->sock_off : NULL;
}

const char *capture_owner_off(const struct capture *c)
{
	return c->owner_off[0] ? c->owner_off : NULL;
}

struct capture *capture_new(const struct capture_opts *opts, capture_tcp_cb on_tcp,
			    capture_dns_cb on_dns, void *ctx, char *err, size_t errlen)
{
	size_t ring = opts->ring_bytes ? opts->ring_bytes : TFT_RING_DEFAULT, each;
	struct capture *c;
	int cgfd = -1, e, probe, ncpus;

	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);

	if (!capture_ring_size_valid(ring)) {
		err_msg(err, errlen, "ring size %zu is not a power of two of at least %u bytes",
			ring, TFT_RING_MIN);
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_msg(err, errlen, "out of memory");
		return NULL;
	}
	c->on_tcp = on_tcp;
	c->on_dns = on_dns;
	c->on_owner = opts->on_owner;
	c->on_sock = opts->on_sock;
	c->ctx = ctx;
	probe = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (probe == 0) {
		e = EOPNOTSUPP;
		err_msg(err, errlen,
			"this kernel has no BPF ring buffer (Linux 5.8 or later needed)");
		goto fail;
	}
	if (probe < 0 && (-probe == EPERM || -probe == EACCES)) {
		e = -probe;
		err_msg(err, errlen, "BPF is not permitted: %s%s", strerror(e), perm_hint(e));
		goto fail;
	}

	if (opts->n_dns_ports > TFT_MAX_DNS_PORTS) {
		e = EINVAL;
		err_msg(err, errlen, "at most %d DNS ports", TFT_MAX_DNS_PORTS);
		goto fail;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		e = ncpus < 0 ? -ncpus : EINVAL;
		err_msg(err, errlen, "cannot count the possible CPUs: %s", strerror(e));
		goto fail;
	}
	c->nrings = (size_t)ncpus;
	c->ring_fds = malloc(c->nrings * sizeof(*c->ring_fds));
	/* At once: the unwind closes every fd that is not -1. */
	for (size_t i = 0; c->ring_fds && i < c->nrings; i++)
		c->ring_fds[i] = -1;
	c->stage = malloc(STAGE_MAX * sizeof(*c->stage));
	c->keys = malloc(STAGE_MAX * sizeof(*c->keys));
	c->owners = malloc(STAGE_MAX * sizeof(*c->owners));
	c->has_owner = malloc(STAGE_MAX * sizeof(*c->has_owner));
	if (!c->ring_fds || !c->stage || !c->keys || !c->owners || !c->has_owner) {
		e = ENOMEM;
		err_msg(err, errlen, "out of memory");
		goto fail;
	}
	each = ring_per_cpu(ring, c->nrings);

	c->skel = tcpflow_bpf__open();
	if (!c->skel) {
		e = errno;
		err_msg(err, errlen, "opening the BPF object failed: %s", strerror(e));
		goto fail;
	}
	/* Wake the reader early once a CPU has queued a quarter of its ring (at most 64 KiB). */
	c->skel->rodata->wakeup_bytes = each / 4 < 65536 ? (__u32)(each / 4) : 65536;
	/* Network order, as the programs compare them; the count lets the verifier prune. */
	for (size_t i = 0; i < TFT_MAX_DNS_PORTS; i++)
		c->skel->rodata->dns_ports[i] =
		    i < opts->n_dns_ports ? htons(opts->dns_ports[i]) : 0;
	c->skel->rodata->dns_port_count = (__u32)opts->n_dns_ports;
	/* The filter's depth freezes at load; its id stays writable, in .bss. */
	c->skel->rodata->watch_level = opts->watch_level;
	owners_before_load(c);
	outcomes_before_load(c);
	e = -create_rings(c, each, err, errlen);
	if (e)
		goto fail;
	e = -bpf_map__set_max_entries(c->skel->maps.rings, (__u32)c->nrings);
	if (!e)
		e = -bpf_map__set_max_entries(c->skel->maps.cpu_slots, (__u32)c->nrings);
	if (e) {
		err_msg(err, errlen, "sizing the ring buffer array failed: %s", strerror(e));
		goto fail;
	}
	e = -tcpflow_bpf__load(c->skel);
	if (e) {
		err_msg(err, errlen, "loading the BPF programs failed: %s%s", strerror(e),
			perm_hint(e));
		goto fail;
	}
	e = -fill_rings(c, err, errlen);
	if (e)
		goto fail;
	/* Before the attach: the parent's other children are never seen, not even briefly. */
	capture_follow(c, opts->watch_cgroup_id);
	if (!opts->cgroup_path)
		return c; /* loaded only: the programs are run by BPF_PROG_TEST_RUN */

	cgfd = open(opts->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd >= 0 && opts->watch_level) {
		int parent = openat(cgfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		close(cgfd);
		cgfd = parent;
	}
	if (cgfd < 0) {
		e = errno;
		err_msg(err, errlen, "cannot open cgroup %s%s: %s", opts->cgroup_path,
			opts->watch_level ? "/.." : "", strerror(e));
		goto fail;
	}
	c->skel->links.tft_ingress = bpf_program__attach_cgroup(c->skel->progs.tft_ingress, cgfd);
	if (!c->skel->links.tft_ingress) {
		e = errno;
		goto fail_attach;
	}
	c->skel->links.tft_egress = bpf_program__attach_cgroup(c->skel->progs.tft_egress, cgfd);
	if (!c->skel->links.tft_egress) {
		e = errno;
		goto fail_attach;
	}
	owners_attach(c, cgfd);
	outcomes_attach(c, opts->cgroup_path);
	close(cgfd);
	return c;

fail_attach:
	err_msg(err, errlen, "attach to cgroup %s%s failed: %s%s", opts->cgroup_path,
		opts->watch_level ? "/.." : "", strerror(e), perm_hint(e));
fail:
	if (cgfd >= 0)
		close(cgfd);
	capture_free(c);
	errno = e;
	return NULL;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	tcpflow_bpf__destroy(c->skel);
	for (size_t i = 0; c->ring_fds && i < c->nrings; i++)
		if (c->ring_fds[i] >= 0)
			close(c->ring_fds[i]);
	free(c->ring_fds);
	free(c->stage);
	free(c->keys);
	free(c->owners);
	free(c->has_owner);
	free(c);
}

int capture_fd(const struct capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int capture_prog_fd(const struct capture *c, enum tft_hook hook)
{
	return bpf_program__fd(hook == TFT_HOOK_EGRESS ? c->skel->progs.tft_egress
						       : c->skel->progs.tft_ingress);
}

size_t capture_rings(const struct capture *c)
{
	return c->nrings;
}

int capture_drain(struct capture *c)
{
	int n = ring_buffer__consume(c->rb);

	flush_stage(c);
	return n;
}

int capture_follow(struct capture *c, uint64_t cgroup_id)
{
	if (!capture_follows(c))
		return -EOPNOTSUPP;
	/* One aligned word: a program running now sees the old id or the new one. */
	__atomic_store_n(&c->skel->bss->watch_cgroup_id, cgroup_id, __ATOMIC_RELAXED);
	return 0;
}

bool capture_follows(const struct capture *c)
{
	return c->skel->rodata->watch_level > 0;
}

uint64_t capture_counter(const struct capture *c, enum tft_counter idx)
{
	if (idx >= TFT_CNT_MAX)
		return 0;
	/* The programs add to it concurrently: read it once, as a whole word. */
	return __atomic_load_n(&c->skel->bss->counters[idx], __ATOMIC_RELAXED);
}

uint64_t capture_lost(const struct capture *c)
{
	return capture_counter(c, TFT_CNT_RB_FULL);
}
