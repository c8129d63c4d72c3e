/*
 * bpfbench: BPF helpers for bench/run.
 *
 *   bpfbench attach OBJ CGROUP
 *       loads every program of OBJ, attaches each cgroup_skb program to CGROUP
 *       with a link, prints "attached", and waits for SIGINT/SIGTERM. Links
 *       die with the process: nothing stays attached.
 *   bpfbench pktcost TCPFLOW_OBJ EMPTY_OBJ [REPEAT]
 *       runs tft_egress and empty_egress with BPF_PROG_TEST_RUN on crafted
 *       packets and prints the kernel-measured ns per run for each.
 *   bpfbench stats CGROUP
 *       prints "id name run_time_ns run_cnt" for every program attached to
 *       CGROUP's ingress and egress hooks (kernel.bpf_stats_enabled=1 makes
 *       the kernel count them), read with bpf_obj_get_info_by_fd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int cmd_attach(const char *path, const char *cgroup)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_link *links[8];
	int n = 0, cg, sig, i;
	sigset_t set;

	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "bpfbench: loading %s failed: %s\n", path, strerror(errno));
		return 1;
	}
	cg = open(cgroup, O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		fprintf(stderr, "bpfbench: %s: %s\n", cgroup, strerror(errno));
		return 1;
	}
	bpf_object__for_each_program (p, obj) {
		if (n == 8)
			break;
		links[n] = bpf_program__attach_cgroup(p, cg);
		if (!links[n]) {
			fprintf(stderr, "bpfbench: attach failed: %s\n", strerror(errno));
			return 1;
		}
		n++;
	}
	close(cg);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("attached %d\n", n);
	fflush(stdout);
	sigwait(&set, &sig);
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}

/* Packets as the cgroup_skb programs see them: from the IP header on. */
struct pkt {
	const char *name;
	unsigned char data[128];
	size_t len;
	int proto; /* ETH_P_IP or ETH_P_IPV6 for the fake Ethernet header */
};

static size_t ip4(unsigned char *b, int proto, size_t l4len)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = (unsigned char)((20 + l4len) >> 8);
	b[3] = (unsigned char)(20 + l4len);
	b[8] = 64;
	b[9] = (unsigned char)proto;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	return 20;
}

static size_t ip6(unsigned char *b, int proto, size_t l4len)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (unsigned char)(l4len >> 8);
	b[5] = (unsigned char)l4len;
	b[6] = (unsigned char)proto;
	b[7] = 64;
	b[8] = 0xfd, b[23] = 1;
	b[24] = 0xfd, b[39] = 2;
	return 40;
}

static size_t tcp(unsigned char *b, unsigned char flags, size_t payload)
{
	memset(b, 0, 20 + payload);
	b[0] = 0x9c, b[1] = 0x40; /* 40000 */
	b[2] = 0x01, b[3] = 0xbb; /* 443 */
	b[7] = 1;		  /* seq 1 */
	b[11] = 1;		  /* ack 1 */
	b[12] = 5 << 4;
	b[13] = flags;
	return 20 + payload;
}

/* A UDP datagram; dns_flags is the third byte of the payload (0x81: a response, QR set). */
static size_t udp(unsigned char *b, int sport, int dport, size_t payload, unsigned char dns_flags)
{
	memset(b, 0, 8 + payload);
	b[0] = (unsigned char)(sport >> 8), b[1] = (unsigned char)sport;
	b[2] = (unsigned char)(dport >> 8), b[3] = (unsigned char)dport;
	b[4] = (unsigned char)((8 + payload) >> 8), b[5] = (unsigned char)(8 + payload);
	b[8 + 2] = dns_flags;
	return 8 + payload;
}

static int run(int fd, const struct pkt *p, unsigned repeat, double *ns)
{
	unsigned char in[14 + 128];
	LIBBPF_OPTS(bpf_test_run_opts, o);
	int err;

	memset(in, 0, 14);
	in[12] = (unsigned char)(p->proto >> 8);
	in[13] = (unsigned char)p->proto;
	memcpy(in + 14, p->data, p->len);
	o.data_in = in;
	o.data_size_in = (__u32)(14 + p->len);
	o.repeat = repeat;
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	if (o.retval != 1)
		return -EINVAL;
	*ns = o.duration; /* average ns per run, measured by the kernel */
	return 0;
}

/*
 * Runs in rounds of ROUND with the ring drained in between, as the reader
 * does: an undrained ring passes wakeup_bytes and turns every later submit
 * into a forced wakeup, which is not the path being measured.
 */
#define ROUND 500
static int measure(int fd, struct ring_buffer *rb, const struct pkt *p, unsigned repeat, double *ns)
{
	double sum = 0, one;
	unsigned done = 0;
	int err;

	while (done < repeat) {
		if (rb)
			ring_buffer__consume(rb);
		err = run(fd, p, ROUND, &one);
		if (err)
			return err;
		sum += one * ROUND;
		done += ROUND;
	}
	*ns = sum / done;
	return 0;
}

static int drop(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/*
 * The programs' rings before load: one "events" ring buffer (older builds),
 * or a ring per possible CPU in the "rings" array, the first of them the
 * template. Returns the ring_buffer manager once rings_fill has run.
 */
static int ring_fds[1024], n_rings;

static int rings_prepare(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "events"), *slots;
	int i;

	if (m)
		return bpf_map__set_max_entries(m, 1u << 20);
	m = bpf_object__find_map_by_name(obj, "rings");
	if (!m)
		return 0;
	n_rings = libbpf_num_possible_cpus();
	if (n_rings <= 0 || n_rings > 1024)
		return -EINVAL;
	for (i = 0; i < n_rings; i++) {
		ring_fds[i] =
		    bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tft_ring", 0, 0, 1u << 20, NULL);
		if (ring_fds[i] < 0)
			return -errno;
	}
	slots = bpf_object__find_map_by_name(obj, "cpu_slots");
	if (slots)
		bpf_map__set_max_entries(slots, (__u32)n_rings);
	bpf_map__set_max_entries(m, (__u32)n_rings);
	return bpf_map__set_inner_map_fd(m, ring_fds[0]);
}

static int drop(void *ctx, void *data, size_t size);

static struct ring_buffer *rings_fill(struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "events");
	struct ring_buffer *rb;
	int i;

	if (m)
		return ring_buffer__new(bpf_map__fd(m), drop, NULL, NULL);
	m = bpf_object__find_map_by_name(obj, "rings");
	if (!m)
		return NULL;
	rb = ring_buffer__new(ring_fds[0], drop, NULL, NULL);
	for (i = 0; rb && i < n_rings; i++) {
		__u32 key = (__u32)i;

		if (bpf_map_update_elem(bpf_map__fd(m), &key, &ring_fds[i], BPF_ANY) ||
		    (i > 0 && ring_buffer__add(rb, ring_fds[i], drop, NULL))) {
			ring_buffer__free(rb);
			return NULL;
		}
	}
	return rb;
}

static int cmd_pktcost(const char *tft_path, const char *empty_path, unsigned repeat)
{
	struct pkt pk[7];
	struct bpf_object *tft, *empty;
	struct ring_buffer *rb;
	int tfd, efd, i, n = 0;
	size_t l;

	tft = bpf_object__open_file(tft_path, NULL);
	empty = bpf_object__open_file(empty_path, NULL);
	if (!tft || !empty) {
		fprintf(stderr, "bpfbench: open failed: %s\n", strerror(errno));
		return 1;
	}
	if (rings_prepare(tft) || bpf_object__load(tft) || bpf_object__load(empty)) {
		fprintf(stderr, "bpfbench: load failed: %s\n", strerror(errno));
		return 1;
	}
	tfd = bpf_program__fd(bpf_object__find_program_by_name(tft, "tft_egress"));
	efd = bpf_program__fd(bpf_object__find_program_by_name(empty, "empty_egress"));
	rb = rings_fill(tft);

	l = ip4(pk[n].data, IPPROTO_TCP, 20);
	pk[n].len = l + tcp(pk[n].data + l, 0x02, 0), pk[n].name = "IPv4 SYN",
	pk[n++].proto = 0x0800;
	l = ip4(pk[n].data, IPPROTO_TCP, 20);
	pk[n].len = l + tcp(pk[n].data + l, 0x12, 0), pk[n].name = "IPv4 SYN-ACK",
	pk[n++].proto = 0x0800;
	l = ip4(pk[n].data, IPPROTO_TCP, 20 + 64);
	pk[n].len = l + tcp(pk[n].data + l, 0x18, 64), pk[n].name = "IPv4 ACK+data",
	pk[n++].proto = 0x0800;
	l = ip6(pk[n].data, IPPROTO_TCP, 20);
	pk[n].len = l + tcp(pk[n].data + l, 0x02, 0), pk[n].name = "IPv6 SYN",
	pk[n++].proto = 0x86dd;
	l = ip4(pk[n].data, IPPROTO_UDP, 8 + 64);
	pk[n].len = l + udp(pk[n].data + l, 40001, 40000, 64, 0), pk[n].name = "IPv4 UDP",
	pk[n++].proto = 0x0800;
	/* A query is remembered; an answer nobody asked for is counted and dropped. */
	l = ip4(pk[n].data, IPPROTO_UDP, 8 + 64);
	pk[n].len = l + udp(pk[n].data + l, 40000, 53, 64, 0x01), pk[n].name = "IPv4 UDP DNS query",
	pk[n++].proto = 0x0800;
	l = ip4(pk[n].data, IPPROTO_UDP, 8 + 64);
	pk[n].len = l + udp(pk[n].data + l, 53, 40000, 64, 0x81),
	pk[n].name = "IPv4 UDP DNS unasked", pk[n++].proto = 0x0800;

	printf("%-22s %12s %12s %8s\n", "packet", "tft_ns", "empty_ns", "ratio");
	for (i = 0; i < n; i++) {
		double t = 0, e = 0;
		int err;

		err = measure(tfd, rb, &pk[i], repeat, &t);
		if (!err)
			err = measure(efd, rb, &pk[i], repeat, &e);
		if (err) {
			fprintf(stderr, "bpfbench: test run %s failed: %s\n", pk[i].name,
				strerror(-err));
			return 1;
		}
		printf("%-22s %12.1f %12.1f %8.2f\n", pk[i].name, t, e, e > 0 ? t / e : 0);
	}
	ring_buffer__free(rb);
	bpf_object__close(tft);
	bpf_object__close(empty);
	return 0;
}

static int print_attached(int cg, enum bpf_attach_type type)
{
	__u32 ids[64], n = 64, i;

	if (bpf_prog_query(cg, type, 0, NULL, ids, &n) < 0) {
		fprintf(stderr, "bpfbench: querying the cgroup failed: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
			fprintf(stderr, "bpfbench: program %u: %s\n", ids[i], strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		printf("%u %s %llu %llu\n", ids[i], info.name[0] ? info.name : "-",
		       (unsigned long long)info.run_time_ns, (unsigned long long)info.run_cnt);
		close(fd);
	}
	return 0;
}

static int cmd_stats(const char *cgroup)
{
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY), err;

	if (cg < 0) {
		fprintf(stderr, "bpfbench: %s: %s\n", cgroup, strerror(errno));
		return 1;
	}
	err = print_attached(cg, BPF_CGROUP_INET_INGRESS) ||
	      print_attached(cg, BPF_CGROUP_INET_EGRESS);
	close(cg);
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "stats"))
		return cmd_stats(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "pktcost"))
		return cmd_pktcost(argv[2], argv[3], argc == 5 ? (unsigned)atoi(argv[4]) : 1000000);
	fprintf(stderr,
		"usage: bpfbench attach OBJ CGROUP | pktcost TCPFLOW_OBJ EMPTY_OBJ [REPEAT] | "
		"stats CGROUP\n");
	return 2;
}
