/*
 * ipfix_send TARGET N: sends N crafted flow records with known figures
 * through the IPFIX exporter to TARGET ([udp:|tcp:]HOST:PORT), then prints
 * the exporter's figures: "queued Q sent S dropped D errors E". Flow i is
 * outgoing 127.0.0.1:(40000+i) -> 127.0.0.2:(8000+i) with 1000+i bytes out
 * and 2000+i bytes in, 10+i segments out and 20+i in, process "sender",
 * pid 4242; the test reading the collector checks exactly these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ipfix.h"

static size_t names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	static const char *n = "dst.example.test";

	(void)ctx;
	out->n = 0;
	if (family == 4 && addr[3] == 2) {
		out->e[0] = (struct names_entry){n, strlen(n), TFT_NAME_DNS};
		out->n = 1;
	}
	return out->n;
}

int main(int argc, char **argv)
{
	struct names_provider np = {names, NULL, NULL, NULL};
	struct ipfix_opts o = {.active_s = 0, .refresh_s = 600, .names = &np};
	struct ipfix_stats st;
	struct ipfix *x;
	char err[256];
	int i, n;

	if (argc != 3 || ipfix_parse_target(argv[1], &o)) {
		fprintf(stderr, "usage: ipfix_send [udp:|tcp:]HOST:PORT N\n");
		return 2;
	}
	n = atoi(argv[2]);
	clock_init();
	x = ipfix_new(&o);
	if (!x || ipfix_start(x, err, sizeof(err))) {
		fprintf(stderr, "ipfix_send: %s\n", x ? err : "out of memory");
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct tft_flow f = {.id = (uint64_t)i + 1};
		struct ipfix_record r;
		uint64_t now = clock_mono_ns();

		f.key.family = 4;
		f.key.dir = TFT_DIR_OUT;
		f.key.sport = (uint16_t)(40000 + i);
		f.key.dport = (uint16_t)(8000 + i);
		memcpy(f.key.saddr, "\x7f\x00\x00\x01", 4);
		memcpy(f.key.daddr, "\x7f\x00\x00\x02", 4);
		f.syn_ns = now - 2000000000ull;
		f.answer_ns = f.syn_ns + 1000000;
		f.state = TFT_STATE_CLOSED;
		f.end = TFT_END_FIN_LOCAL;
		f.end_ns = now;
		f.flags = TFT_FLOW_F_FIGURES;
		f.bytes_out = 1000 + (uint64_t)i;
		f.bytes_in = 2000 + (uint64_t)i;
		f.segs_out = 10 + (uint32_t)i;
		f.segs_in = 20 + (uint32_t)i;
		f.owner.state = TFT_OWNER_KNOWN;
		f.owner.tgid = 4242;
		memcpy(f.owner.comm, "sender", 6);
		ipfix_record_build(&f, ipfix_end_reason(&f), f.end_ns, &np, &r);
		ipfix_queue(x, &r, 1000);
	}
	ipfix_stop(x);
	ipfix_stats(x, &st);
	printf("queued %llu sent %llu dropped %llu errors %llu\n", (unsigned long long)st.queued,
	       (unsigned long long)st.sent, (unsigned long long)st.dropped,
	       (unsigned long long)st.errors);
	ipfix_free(x);
	return 0;
}
