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

struct capture {
	struct tcpflow_bpf *skel; /* owned */
	struct ring_buffer *rb;	  /* owned */
	capture_tcp_cb on_tcp;
	capture_dns_cb on_dns;
	void *ctx; /* borrowed */
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

static int on_record(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const __u8 *type = data;

	if (size < 1)
		return 0;
	switch (*type) {
	case TFT_REC_TCP:
		if (size >= sizeof(struct tft_tcp_event) && c->on_tcp)
			c->on_tcp(data, c->ctx);
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

struct capture *capture_new(const struct capture_opts *opts, capture_tcp_cb on_tcp,
			    capture_dns_cb on_dns, void *ctx, char *err, size_t errlen)
{
	size_t ring = opts->ring_bytes ? opts->ring_bytes : TFT_RING_DEFAULT;
	struct capture *c;
	int cgfd = -1, e, probe;

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

	c->skel = tcpflow_bpf__open();
	if (!c->skel) {
		e = errno;
		err_msg(err, errlen, "opening the BPF object failed: %s", strerror(e));
		goto fail;
	}
	/* Wake the reader early once a quarter of the ring (at most 64 KiB) is pending. */
	c->skel->rodata->wakeup_bytes = ring / 4 < 65536 ? (__u32)(ring / 4) : 65536;
	/* Network order, as the programs compare them; the count lets the verifier prune. */
	for (size_t i = 0; i < TFT_MAX_DNS_PORTS; i++)
		c->skel->rodata->dns_ports[i] =
		    i < opts->n_dns_ports ? htons(opts->dns_ports[i]) : 0;
	c->skel->rodata->dns_port_count = (__u32)opts->n_dns_ports;
	e = -bpf_map__set_max_entries(c->skel->maps.events, (__u32)ring);
	if (e) {
		err_msg(err, errlen, "sizing the ring buffer failed: %s", strerror(e));
		goto fail;
	}
	e = -tcpflow_bpf__load(c->skel);
	if (e) {
		err_msg(err, errlen, "loading the BPF programs failed: %s%s", strerror(e),
			perm_hint(e));
		goto fail;
	}

	cgfd = open(opts->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		e = errno;
		err_msg(err, errlen, "cannot open cgroup %s: %s", opts->cgroup_path, strerror(e));
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
	close(cgfd);
	cgfd = -1;

	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_record, c, NULL);
	if (!c->rb) {
		e = errno;
		err_msg(err, errlen, "mapping the ring buffer failed: %s", strerror(e));
		goto fail;
	}
	return c;

fail_attach:
	err_msg(err, errlen, "attach to cgroup %s failed: %s%s", opts->cgroup_path, strerror(e),
		perm_hint(e));
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
	free(c);
}

int capture_fd(const struct capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int capture_drain(struct capture *c)
{
	return ring_buffer__consume(c->rb);
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
