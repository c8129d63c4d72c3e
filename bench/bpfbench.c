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
 *   bpfbench filtercost TCPFLOW_OBJ EMPTY_OBJ CGROUP [REPEAT]
 *       moves itself into CGROUP (not the root), then runs tft_egress as
 *       loaded for the default root (no filter), with the cgroup filter
 *       watching CGROUP (the test run's socket is in it: the packet is
 *       watched), and watching another cgroup id (the early exit), and
 *       empty_egress, in rounds; prints the median ns per run of each.
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
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
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

/*
 * Sets a global variable of an opened object before load: found by name in
 * the data section's BTF, written at its offset in the section's initial
 * value.
 */
static int set_global(struct bpf_object *obj, const char *sec, const char *name, const void *val,
		      size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	struct bpf_map *m;
	size_t msize, nl = strlen(sec);
	const void *init;
	char *data;
	int id, i;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(t);
	for (i = 0; i < btf_vlen(t); i++, vs++) {
		if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off),
			   name) != 0)
			continue;
		if (vs->size != size)
			return -EINVAL;
		for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m)) {
			const char *mn = bpf_map__name(m);
			size_t ml = strlen(mn);

			if (ml < nl || strcmp(mn + ml - nl, sec) != 0)
				continue;
			init = bpf_map__initial_value(m, &msize);
			if (!init || vs->offset + size > msize || !(data = malloc(msize)))
				return -EINVAL;
			memcpy(data, init, msize);
			memcpy(data + vs->offset, val, size);
			i = bpf_map__set_initial_value(m, data, msize);
			free(data);
			return i;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* The cgroup's depth below the root of the hierarchy, by walking "..": no namespaces here. */
static int cgroup_depth(const char *path)
{
	struct stat here, up;
	int fd = open(path, O_RDONLY | O_DIRECTORY), parent, n = 0;

	if (fd < 0 || fstat(fd, &here) < 0)
		return -1;
	for (; n < 4096; n++) {
		parent = openat(fd, "..", O_RDONLY | O_DIRECTORY);
		close(fd);
		if (parent < 0 || fstat(parent, &up) < 0)
			return -1;
		fd = parent;
		if (up.st_dev != here.st_dev || up.st_ino == here.st_ino)
			break;
		here = up;
	}
	close(fd);
	return n;
}

static int cgroup_id_of(const char *path, __u64 *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + 8];
	} h;
	int mount_id;

	h.fh.handle_bytes = 8;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	memcpy(id, h.fh.f_handle, 8);
	return 0;
}

#define FILTER_ROUNDS 7

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * A test run's packet carries a socket made in the caller's cgroup, so with
 * this process in CGROUP the filter watching CGROUP's id lets the packet
 * through to the parse, and the one watching another id leaves at once.
 */
static int cmd_filtercost(const char *tft_path, const char *empty_path, const char *cgroup,
			  unsigned repeat)
{
	static const char *names[] = {"no filter (root)", "filter: watched", "filter: other cgroup",
				      "empty program"};
	struct bpf_object *objs[3], *empty;
	struct ring_buffer *rbs[4] = {NULL};
	double ns[2][4][FILTER_ROUNDS];
	struct pkt pk[2];
	char procs[4096];
	int fds[4], level, r, i, v, fd;
	__u64 id, other;
	__u32 lvl;
	size_t l;

	level = cgroup_depth(cgroup);
	if (level < 1 || cgroup_id_of(cgroup, &id)) {
		fprintf(stderr, "bpfbench: %s: not a cgroup v2 directory below the root\n", cgroup);
		return 1;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	fd = open(procs, O_WRONLY);
	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0) {
		fprintf(stderr, "bpfbench: entering %s failed: %s\n", cgroup, strerror(errno));
		return 1;
	}
	close(fd);
	lvl = (__u32)level;
	other = id + 1000000; /* no cgroup of the test run's socket's ancestors */
	for (v = 0; v < 3; v++) {
		objs[v] = bpf_object__open_file(tft_path, NULL);
		if (!objs[v] || rings_prepare(objs[v]) ||
		    (v > 0 && (set_global(objs[v], ".rodata", "watch_level", &lvl, sizeof(lvl)) ||
			       set_global(objs[v], ".bss", "watch_cgroup_id", v == 1 ? &id : &other,
					  sizeof(id)))) ||
		    bpf_object__load(objs[v])) {
			fprintf(stderr, "bpfbench: loading %s (%s) failed\n", tft_path, names[v]);
			return 1;
		}
		fds[v] = bpf_program__fd(bpf_object__find_program_by_name(objs[v], "tft_egress"));
		rbs[v] = rings_fill(objs[v]);
	}
	empty = bpf_object__open_file(empty_path, NULL);
	if (!empty || bpf_object__load(empty)) {
		fprintf(stderr, "bpfbench: loading %s failed\n", empty_path);
		return 1;
	}
	fds[3] = bpf_program__fd(bpf_object__find_program_by_name(empty, "empty_egress"));

	l = ip4(pk[0].data, IPPROTO_TCP, 20 + 64);
	pk[0].len = l + tcp(pk[0].data + l, 0x18, 64), pk[0].name = "IPv4 ACK+data",
	pk[0].proto = 0x0800;
	l = ip4(pk[1].data, IPPROTO_TCP, 20);
	pk[1].len = l + tcp(pk[1].data + l, 0x02, 0), pk[1].name = "IPv4 SYN", pk[1].proto = 0x0800;
	/* Round after round, every variant in turn: all see the same machine state. */
	for (r = 0; r < FILTER_ROUNDS; r++)
		for (i = 0; i < 2; i++)
			for (v = 0; v < 4; v++)
				if (measure(fds[v], rbs[v], &pk[i], repeat, &ns[i][v][r])) {
					fprintf(stderr, "bpfbench: test run failed\n");
					return 1;
				}
	printf("%-22s", "ns per run (median)");
	for (v = 0; v < 4; v++)
		printf(" %22s", names[v]);
	printf("\n");
	for (i = 0; i < 2; i++) {
		printf("%-22s", pk[i].name);
		for (v = 0; v < 4; v++) {
			qsort(ns[i][v], FILTER_ROUNDS, sizeof(double), cmp_double);
			printf(" %22.1f", ns[i][v][FILTER_ROUNDS / 2]);
		}
		printf("\n");
	}
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
	/* Per packet and per socket: every hook tcpflowtop attaches to. */
	err = print_attached(cg, BPF_CGROUP_INET_INGRESS) ||
	      print_attached(cg, BPF_CGROUP_INET_EGRESS) ||
	      print_attached(cg, BPF_CGROUP_INET_SOCK_CREATE) ||
	      print_attached(cg, BPF_CGROUP_INET4_POST_BIND) ||
	      print_attached(cg, BPF_CGROUP_INET6_POST_BIND) ||
	      print_attached(cg, BPF_CGROUP_SOCK_OPS);
	close(cg);
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "stats"))
		return cmd_stats(argv[2]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "filtercost"))
		return cmd_filtercost(argv[2], argv[3], argv[4],
				      argc == 6 ? (unsigned)atoi(argv[5]) : 200000);
	if (argc == 4 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "pktcost"))
		return cmd_pktcost(argv[2], argv[3], argc == 5 ? (unsigned)atoi(argv[4]) : 1000000);
	fprintf(stderr,
		"usage: bpfbench attach OBJ CGROUP | pktcost TCPFLOW_OBJ EMPTY_OBJ [REPEAT] | "
		"filtercost TCPFLOW_OBJ EMPTY_OBJ CGROUP [REPEAT] | stats CGROUP\n");
	return 2;
}
