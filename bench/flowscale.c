/*
 * flowscale: the flow table without the kernel. Feeds N synthetic flows (a
 * SYN, then a SYN-ACK for each) through flow_table_apply with the default
 * capacity, then times "frames" of the screen's view code (table_view_rebuild):
 * every held flow filtered by a port list and sorted, newest first (the
 * default), then by destination port, destination address and destination
 * names (a names cache names 3 of every 4 of the 4,093 destinations); and
 * every held flow filtered by a word found in names, newest first.
 *
 *   flowscale [FLOWS] [CAPACITY]      (defaults 1000000, 100000)
 *
 * Prints: flows, capacity, inserts/s, held, evicted, peak RSS (VmHWM, KiB),
 * frame ms for the held rows, by each sort, and for the word filter; then
 * the names frames again as when names changed just before each frame (the
 * screen's memo cannot be kept). Then the group views: 100,000 flows to
 * 10,000 remote services (address and port) through the grouping sink (ns
 * per flow: new, answer and, for those accepted, a figures update and the
 * end), and group frames (group_view_rebuild: every group's figures and
 * percentiles, sorted) by flows, by p95 and by remote; then the same flows
 * grouped by process (10 services x 1,000 commands), frames by flows and
 * by process and service (text sorts).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns_cache.h"
#include "filter.h"
#include "flow_groups.h"
#include "flow_table.h"
#include "group_view.h"
#include "names_provider.h"
#include "owner_names.h"
#include "table_view.h"

#define DESTINATIONS 4093 /* prime: consecutive flows go to different hosts */

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

static void dest_addr(unsigned long i, uint8_t addr[16])
{
	uint32_t h = (uint32_t)(i % DESTINATIONS);

	memset(addr, 0, 16);
	addr[0] = 10, addr[1] = (uint8_t)(h >> 8), addr[2] = (uint8_t)h, addr[3] = 2;
}

/* The screen's provider, minus the resolver: the cache's names. */
static size_t cache_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	const struct dns_names *n = NULL;

	if (dns_cache_lookup(ctx, family, addr, clock_mono_coarse_ns(), &n) != TFT_DNS_HIT)
		n = NULL;
	return names_list_from_dns(n, out);
}

static uint64_t cache_generation(void *ctx)
{
	return dns_cache_generation(ctx);
}

static struct dns_cache *dest_names(void)
{
	struct dns_cache *c = dns_cache_new(2 * DESTINATIONS, 1 << 20, 300, 86400);
	uint8_t addr[16];
	char name[64];
	unsigned long h;

	for (h = 0; c && h < DESTINATIONS; h++) {
		if (h % 4 == 3)
			continue; /* unnamed: sorts after the named ones */
		dest_addr(h, addr);
		/* Hash-spread names, so name order is not address order. */
		snprintf(name, sizeof(name), "svc-%05lu.prod.example.com", (h * 7919) % 100000);
		dns_cache_add(c, 4, addr, name, strlen(name), TFT_NAME_DNS, 3600,
			      clock_mono_coarse_ns());
	}
	return c;
}

/*
 * One frame, timed as the screen redraws it: the second time, when the
 * view's buffers exist (the first frame after a sort change pays their page
 * faults once).
 */
static double frame_ms(struct table_view *view, const struct flow_table *t,
		       const struct filter *flt, const struct names_provider *names,
		       enum flow_field col, bool desc)
{
	/*
	 * FLOWSCALE_REPEAT=N: N timed frames, the median reported;
	 * FLOWSCALE_MIN=1: the fastest instead (on a shared machine);
	 * FLOWSCALE_ONLY=COL: only frames sorted by COL (for a profiler).
	 */
	const char *rep = getenv("FLOWSCALE_REPEAT"), *only = getenv("FLOWSCALE_ONLY");
	int reps = rep ? atoi(rep) : 1, i, j;
	double ms[64], t0, x;

	if (only && strcmp(only, flow_field(col)->name) && !(flt->nterms && !strcmp(only, "word")))
		return 0;
	if (reps < 1)
		reps = 1;
	if (reps > 64)
		reps = 64;
	table_view_rebuild(view, t, flt, names, col, desc, UINT64_MAX);
	for (i = 0; i < reps; i++) {
		t0 = now();
		table_view_rebuild(view, t, flt, names, col, desc, UINT64_MAX);
		ms[i] = (now() - t0) * 1000;
		for (j = i; j > 0 && ms[j - 1] > ms[j]; j--)
			x = ms[j], ms[j] = ms[j - 1], ms[j - 1] = x;
	}
	return getenv("FLOWSCALE_MIN") ? ms[0] : ms[reps / 2];
}

#define GROUP_FLOWS 100000
#define GROUP_KEYS 10000

/* The group view's frame, timed as frame_ms times the flow view's. */
static double group_frame_ms(struct group_view *v, const struct flow_groups *g,
			     enum group_field col, bool desc)
{
	const char *rep = getenv("FLOWSCALE_REPEAT");
	int reps = rep ? atoi(rep) : 1, i, j;
	double ms[64], t0, x;

	if (reps < 1)
		reps = 1;
	if (reps > 64)
		reps = 64;
	group_view_rebuild(v, g, NULL, col, desc, flow_groups_now(g));
	for (i = 0; i < reps; i++) {
		t0 = now();
		group_view_rebuild(v, g, NULL, col, desc, flow_groups_now(g));
		ms[i] = (now() - t0) * 1000;
		for (j = i; j > 0 && ms[j - 1] > ms[j]; j--)
			x = ms[j], ms[j] = ms[j - 1], ms[j - 1] = x;
	}
	return getenv("FLOWSCALE_MIN") ? ms[0] : ms[reps / 2];
}

/*
 * Flow i's life as the pipeline tells it: SYN, then SYN-ACK or, one in 8,
 * RST; an accepted flow then gets a figures update and its end (one in 4 of
 * them reset by the peer).
 */
static void group_flow_events(struct flow_sink *sink, unsigned long i)
{
	unsigned long k = (i * 7919) % GROUP_KEYS;
	struct tft_flow f;

	memset(&f, 0, sizeof(f));
	f.id = i + 1;
	f.key.family = 4;
	f.key.dir = TFT_DIR_OUT;
	f.key.sport = (uint16_t)(10000 + i % 50000);
	f.key.dport = (uint16_t)(1000 + k % 10);
	f.key.saddr[0] = 10, f.key.saddr[3] = 1;
	f.key.daddr[0] = 10, f.key.daddr[1] = (uint8_t)(k >> 8), f.key.daddr[2] = (uint8_t)k;
	f.owner.state = TFT_OWNER_KNOWN;
	f.owner.cgroup_id = 100 + k % 10;
	f.owner.tgid = (uint32_t)(1000 + i % 5000);
	snprintf(f.owner.comm, sizeof(f.owner.comm), "cmd-%lu", k / 10);
	f.syn_ns = 1000000000ull + i * 100000ull;
	sink->changed(sink->ctx, &f, TFT_CHANGE_NEW, f.syn_ns);
	/* Handshakes from 20 µs to about 50 ms, spread. */
	f.answer_ns = f.syn_ns + 20000 + (i * 2654435761u) % 50000000;
	f.state = i % 8 ? TFT_STATE_ACCEPTED : TFT_STATE_REFUSED;
	sink->changed(sink->ctx, &f, TFT_CHANGE_STATE, f.answer_ns);
	if (f.state != TFT_STATE_ACCEPTED)
		return;
	f.flags = TFT_FLOW_F_FIGURES;
	f.bytes_in = 1000 + i % 4096, f.bytes_out = 300;
	sink->changed(sink->ctx, &f, TFT_CHANGE_UPDATE, f.answer_ns + 1000000);
	f.state = TFT_STATE_CLOSED;
	f.end = i % 4 ? TFT_END_FIN_LOCAL : TFT_END_RESET_PEER;
	f.bytes_in *= 2, f.bytes_out *= 2;
	sink->changed(sink->ctx, &f, TFT_CHANGE_END, f.answer_ns + 2000000);
}

/* The same flows by process: 10 services x 1,000 commands. */
static int groups_process_bench(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_PROCESS, 0, GROUP_FLOWS, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct group_view *v = group_view_new();
	struct flow_groups_stats st;
	struct flow_sink sink;
	double t0, t1, by_flows, by_process, by_service;
	char path[64];
	unsigned long i;

	if (!g || !v)
		return 1;
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/system.slice/unit-%lu.service", i);
		owner_names_learn(0, "root", 100 + i, path);
	}
	sink = flow_groups_sink(g);
	t0 = now();
	for (i = 0; i < GROUP_FLOWS; i++)
		group_flow_events(&sink, i);
	t1 = now();
	flow_groups_stats(g, &st);
	by_flows = group_frame_ms(v, g, GROUP_FIELD_FLOWS, true);
	by_process = group_frame_ms(v, g, GROUP_FIELD_PROCESS, false);
	by_service = group_frame_ms(v, g, GROUP_FIELD_SERVICE, false);
	printf("groups_process: flows=%d groups=%zu sink_ns_per_flow=%.0f "
	       "group_frame_ms_by_flows=%.2f group_frame_ms_by_process=%.2f "
	       "group_frame_ms_by_service=%.2f\n",
	       GROUP_FLOWS, st.groups, (t1 - t0) * 1e9 / GROUP_FLOWS, by_flows, by_process,
	       by_service);
	group_view_free(v);
	flow_groups_free(g);
	return 0;
}

/* 100,000 flows to 10,000 services through the grouping sink; prints the figures. */
static int groups_bench(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_REMOTE, 0, GROUP_FLOWS, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct flow_sink sink;
	struct group_view *v = group_view_new();
	struct flow_groups_stats st;
	double t0, t1, by_flows, by_p95, by_remote, cold;
	unsigned long i;

	if (!g || !v)
		return 1;
	sink = flow_groups_sink(g);
	t0 = now();
	for (i = 0; i < GROUP_FLOWS; i++)
		group_flow_events(&sink, i);
	t1 = now();
	flow_groups_stats(g, &st);
	by_flows = group_frame_ms(v, g, GROUP_FIELD_FLOWS, true);
	by_p95 = group_frame_ms(v, g, GROUP_FIELD_P95, true);
	by_remote = group_frame_ms(v, g, GROUP_FIELD_REMOTE, false);
	/* Every group changed since the last frame: no percentile or client count is reused. */
	group_view_free(v);
	v = group_view_new();
	cold = now();
	if (v)
		group_view_rebuild(v, g, NULL, GROUP_FIELD_P95, true, flow_groups_now(g));
	cold = (now() - cold) * 1000;
	printf("groups: flows=%d groups=%zu sink_ns_per_flow=%.0f vm_hwm_kib=%ld "
	       "group_frame_ms_by_flows=%.2f group_frame_ms_by_p95=%.2f "
	       "group_frame_ms_by_remote=%.2f group_frame_ms_all_changed=%.2f\n",
	       GROUP_FLOWS, st.groups, (t1 - t0) * 1e9 / GROUP_FLOWS, vm_hwm_kib(), by_flows,
	       by_p95, by_remote, cold);
	group_view_free(v);
	flow_groups_free(g);
	return groups_process_bench();
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long cap = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	struct tft_tcp_event ev;
	struct flow_table *t;
	struct table_view *view;
	struct filter flt, word;
	struct dns_cache *cache;
	struct names_provider names = {cache_names, NULL, "bench cache", cache_generation};
	size_t held, i, kept = 0, kept_word;
	double t0, t1, t_time, t_port, t_dst, t_dnames, t_word, t_dnames_cold, t_word_cold;
	struct names_provider changing;
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
		memset(&ev, 0, sizeof(ev));
		ev.type = TFT_REC_TCP;
		ev.family = 4;
		ev.hook = TFT_HOOK_EGRESS;
		ev.flags = TFT_TCP_SYN;
		ev.sport = htons((uint16_t)(10000 + i % 50000));
		ev.dport = htons((uint16_t)(i % 7 ? 443 : 8080));
		ev.saddr[0] = 10, ev.saddr[3] = 1;
		dest_addr(i, ev.daddr);
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

	/* Frames through the screen's own view code, as after a key press. */
	held = flow_table_count(t);
	view = table_view_new();
	cache = dest_names();
	if (!view || !cache ||
	    (memset(&word, 0, sizeof(word)), filter_parse_terms(&word, "svc-0", err, sizeof(err))))
		return 1;
	names.ctx = cache;
	t_time = frame_ms(view, t, &flt, &names, FLOW_FIELD_TIME, true);
	kept = table_view_count(view);
	t_port = frame_ms(view, t, &flt, &names, FLOW_FIELD_DPORT, false);
	t_dst = frame_ms(view, t, &flt, &names, FLOW_FIELD_DST, false);
	t_dnames = frame_ms(view, t, &flt, &names, FLOW_FIELD_DNAMES, false);
	t_word = frame_ms(view, t, &word, &names, FLOW_FIELD_TIME, true);
	kept_word = table_view_count(view);
	/* As if names changed before every frame: a provider without a generation. */
	changing = names;
	changing.generation = NULL;
	t_dnames_cold = frame_ms(view, t, &flt, &changing, FLOW_FIELD_DNAMES, false);
	t_word_cold = frame_ms(view, t, &word, &changing, FLOW_FIELD_TIME, true);

	printf("flows=%lu capacity=%lu inserts_per_s=%.0f held=%zu evicted=%llu accepted=%llu "
	       "vm_hwm_kib=%ld frame_rows=%zu frame_kept=%zu frame_ms=%.2f frame_ms_by_port=%.2f "
	       "frame_ms_by_dst=%.2f frame_ms_by_dnames=%.2f word_kept=%zu frame_ms_word=%.2f "
	       "names_changed: frame_ms_by_dnames=%.2f frame_ms_word=%.2f\n",
	       n, cap, n / (t1 - t0), held, (unsigned long long)flow_table_stats(t)->evicted,
	       (unsigned long long)flow_table_stats(t)->accepted, vm_hwm_kib(), held, kept, t_time,
	       t_port, t_dst, t_dnames, kept_word, t_word, t_dnames_cold, t_word_cold);
	dns_cache_free(cache);
	table_view_free(view);
	flow_table_free(t);
	return groups_bench();
}
