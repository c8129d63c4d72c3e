/*
 * flowscale: the flow table without the kernel. Feeds N synthetic flows (a
 * SYN, then a SYN-ACK for each) through flow_table_apply with the default
 * capacity, then times "frames" of the screen's view code (table_view_rebuild):
 * every held flow filtered by a port list and sorted, newest first (the
 * default), then by destination port.
 *
 *   flowscale [FLOWS] [CAPACITY]      (defaults 1000000, 100000)
 *
 * Prints: flows, capacity, inserts/s, held, evicted, peak RSS (VmHWM, KiB),
 * frame ms for the held rows.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "flow_table.h"
#include "table_view.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long vm_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long cap = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	struct tft_tcp_event ev;
	struct flow_table *t;
	struct table_view *view;
	struct filter flt;
	size_t held, i, kept = 0;
	double t0, t1, t2, t3;
	char err[128];

	t = flow_table_new(cap);
	if (!t || n == 0)
		return 1;
	memset(&flt, 0, sizeof(flt));
	if (port_list_parse("443,8000-8100,10000-30000", &flt.ports, err, sizeof(err)))
		return 1;
	flt.has_ports = true;

	t0 = now();
	for (i = 0; i < n; i++) {
		uint32_t host = (uint32_t)(i / 50000);

		memset(&ev, 0, sizeof(ev));
		ev.type = TFT_REC_TCP;
		ev.family = 4;
		ev.hook = TFT_HOOK_EGRESS;
		ev.flags = TFT_TCP_SYN;
		ev.sport = htons((uint16_t)(10000 + i % 50000));
		ev.dport = htons((uint16_t)(i % 7 ? 443 : 8080));
		ev.saddr[0] = 10, ev.saddr[3] = 1;
		ev.daddr[0] = 10, ev.daddr[1] = (uint8_t)(host >> 8), ev.daddr[2] = (uint8_t)host;
		ev.daddr[3] = 2;
		ev.seq = (uint32_t)i * 2654435761u;
		ev.ts_ns = 1000000000ull + i * 1000ull;
		flow_table_apply(t, &ev, NULL);
		/* The answer: swapped, ingress, SYN-ACK acknowledging seq + 1. */
		ev.hook = TFT_HOOK_INGRESS;
		ev.flags = TFT_TCP_SYN | TFT_TCP_ACK;
		{
			__be16 p = ev.sport;
			uint8_t a[16];

			ev.sport = ev.dport, ev.dport = p;
			memcpy(a, ev.saddr, 16), memcpy(ev.saddr, ev.daddr, 16),
			    memcpy(ev.daddr, a, 16);
		}
		ev.ack = ev.seq + 1;
		ev.seq = 7;
		ev.ts_ns += 100;
		flow_table_apply(t, &ev, NULL);
	}
	t1 = now();

	/* Frames through the screen's own view code: the default sort, then by port. */
	held = flow_table_count(t);
	view = table_view_new();
	if (!view)
		return 1;
	t2 = now();
	table_view_rebuild(view, t, &flt, NULL, TABLE_COL_TIME, true, UINT64_MAX);
	t2 = now() - t2;
	kept = table_view_count(view);
	t3 = now();
	table_view_rebuild(view, t, &flt, NULL, TABLE_COL_DPORT, false, UINT64_MAX);
	t3 = now() - t3;

	printf("flows=%lu capacity=%lu inserts_per_s=%.0f held=%zu evicted=%llu accepted=%llu "
	       "vm_hwm_kib=%ld frame_rows=%zu frame_kept=%zu frame_ms=%.2f frame_ms_by_port=%.2f\n",
	       n, cap, n / (t1 - t0), held, (unsigned long long)flow_table_stats(t)->evicted,
	       (unsigned long long)flow_table_stats(t)->accepted, vm_hwm_kib(), held, kept,
	       t2 * 1000, t3 * 1000);
	table_view_free(view);
	flow_table_free(t);
	return 0;
}
