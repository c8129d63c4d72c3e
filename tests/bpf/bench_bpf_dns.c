/*
 * Not a test: measures the per-packet cost of the cgroup_skb programs of one
 * or more BPF object files on a non-DNS packet (IPv4 TCP ACK with 100 bytes of
 * data, port 443), with BPF_PROG_TEST_RUN and a large repeat. Objects are run
 * in turn, round after round, so old and new see the same machine state:
 *
 *   bench_bpf_dns [-r ROUNDS] [-n REPEAT] old.bpf.o build/tcpflow.bpf.o
 *
 * Prints ns/packet per object and program (the minimum and median over rounds).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_OBJS 4
#define MAX_ROUNDS 64

struct bench_obj {
	const char *path;
	struct bpf_object *obj;
	int prog_fd[2]; /* ingress, egress */
	double ns[2][MAX_ROUNDS];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t build_packet(uint8_t *p, int udp)
{
	size_t n = 0, l4 = (udp ? 8 : 20) + 100;

	memset(p, 0, 14 + 20 + l4);
	p[0] = 2;
	p[6] = 2;
	p[12] = ETH_P_IP >> 8;
	p[13] = ETH_P_IP & 0xff;
	n = 14;
	p[n] = 0x45;
	p[n + 2] = (uint8_t)((20 + l4) >> 8);
	p[n + 3] = (uint8_t)(20 + l4);
	p[n + 8] = 64;
	p[n + 9] = udp ? IPPROTO_UDP : IPPROTO_TCP;
	p[n + 12] = 127;
	p[n + 15] = 1;
	p[n + 16] = 127;
	p[n + 19] = 2;
	n += 20;
	p[n] = 443 >> 8;
	p[n + 1] = 443 & 0xff;
	p[n + 2] = 0x9c;
	p[n + 3] = 0x40;
	if (udp) {
		p[n + 4] = (uint8_t)(l4 >> 8);
		p[n + 5] = (uint8_t)l4;
	} else {
		p[n + 12] = 5 << 4;
		p[n + 13] = 0x18; /* ACK|PSH */
	}
	return n + l4;
}

int main(int argc, char **argv)
{
	struct bench_obj objs[MAX_OBJS] = {0};
	uint8_t pkt[512];
	int nobjs = 0, rounds = 9, repeat = 1000000, udp = 0, opt, r, i, h;
	size_t len;

	while ((opt = getopt(argc, argv, "r:n:u")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'n')
			repeat = atoi(optarg);
		else if (opt == 'u')
			udp = 1;
		else
			return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || repeat < 1 || optind >= argc) {
		fprintf(stderr, "usage: %s [-r ROUNDS] [-n REPEAT] [-u] OBJ...\n", argv[0]);
		return 2;
	}
	len = build_packet(pkt, udp);
	for (; optind < argc && nobjs < MAX_OBJS; optind++) {
		struct bench_obj *b = &objs[nobjs];
		struct bpf_map *m;

		b->path = argv[optind];
		b->obj = bpf_object__open_file(b->path, NULL);
		if (!b->obj) {
			fprintf(stderr, "open %s: %s\n", b->path, strerror(errno));
			return 1;
		}
		bpf_object__for_each_map(m, b->obj)
		{
			if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
				bpf_map__set_max_entries(m, 1 << 20);
		}
		if (bpf_object__load(b->obj)) {
			fprintf(stderr, "load %s: %s\n", b->path, strerror(errno));
			return 1;
		}
		b->prog_fd[0] =
		    bpf_program__fd(bpf_object__find_program_by_name(b->obj, "tft_ingress"));
		b->prog_fd[1] =
		    bpf_program__fd(bpf_object__find_program_by_name(b->obj, "tft_egress"));
		nobjs++;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nobjs; i++) {
			for (h = 0; h < 2; h++) {
				LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
					    .data_size_in = (__u32)len, .repeat = repeat);

				if (bpf_prog_test_run_opts(objs[i].prog_fd[h], &o) ||
				    o.retval != 1) {
					fprintf(stderr, "run failed: %s\n", strerror(errno));
					return 1;
				}
				objs[i].ns[h][r] = o.duration; /* kernel: ns per run, averaged */
			}
		}
	}
	printf("%s, %d rounds x %d runs\n",
	       udp ? "UDP 443->40000, 100 bytes" : "TCP ACK|PSH 443->40000, 100 bytes", rounds,
	       repeat);
	for (i = 0; i < nobjs; i++) {
		for (h = 0; h < 2; h++) {
			qsort(objs[i].ns[h], (size_t)rounds, sizeof(double), cmp_double);
			printf("%-40s %-8s min %5.1f ns  median %5.1f ns/packet\n", objs[i].path,
			       h ? "egress" : "ingress", objs[i].ns[h][0],
			       objs[i].ns[h][rounds / 2]);
		}
	}
	for (i = 0; i < nobjs; i++)
		bpf_object__close(objs[i].obj);
	return 0;
}
