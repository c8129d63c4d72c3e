/*
 * libFuzzer entry point for dns_parse, fed on into a dns_cache and through
 * every escape function. Invariant violations abort so the fuzzer reports
 * them; the same entry point runs under replay_main.c in ctest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_cache.h"
#include "dns_parse.h"
#include "name_escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c)                                                                             \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* Escape into a small and a large buffer; both must agree and be terminated. */
static void escape_all(const char *s, size_t len)
{
	char big[TFT_DNS_CACHE_NAME_MAX * 6 + 16], small[17];
	size_t n, m;

	n = tft_escape_term(big, sizeof(big), s, len, 0);
	FUZZ_ASSERT(n < sizeof(big) && strlen(big) == n);
	m = tft_escape_term(small, sizeof(small), s, len, 0);
	FUZZ_ASSERT(m == n && strlen(small) < sizeof(small));
	FUZZ_ASSERT(!strncmp(small, big, strlen(small)));
	n = tft_escape_term(big, sizeof(big), s, len, 20);
	FUZZ_ASSERT(n < sizeof(big) && strlen(big) == n && n <= 22); /* 19 columns + 3-byte mark */

	n = tft_escape_csv(big, sizeof(big), s, len);
	FUZZ_ASSERT(n < sizeof(big) && strlen(big) == n);
	m = tft_escape_csv(small, sizeof(small), s, len);
	FUZZ_ASSERT(m == n && !strncmp(small, big, strlen(small)));

	n = tft_escape_json(big, sizeof(big), s, len);
	FUZZ_ASSERT(n < sizeof(big) && strlen(big) == n && n >= 2);
	FUZZ_ASSERT(big[0] == '"' && big[n - 1] == '"');
	m = tft_escape_json(small, sizeof(small), s, len);
	FUZZ_ASSERT(m == n && !strncmp(small, big, strlen(small)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* kept across inputs so eviction and expiry paths run too */
	static struct dns_cache *cache;
	static uint64_t now_ns = 1;
	static struct dns_response r;
	const struct dns_names *names;
	size_t i;
	int err;

	if (!cache) {
		cache = dns_cache_new(64, 4096, 5, 3600);
		FUZZ_ASSERT(cache);
	}

	/* Prefix mode (messages the capture cut short) keeps the same invariants. */
	err = dns_parse_response_prefix(data, size, &r);
	FUZZ_ASSERT(err == 0 || err == -EBADMSG);
	if (!err) {
		FUZZ_ASSERT(r.chain_len <= TFT_DNS_MAX_CHAIN && r.n_addrs <= TFT_DNS_MAX_ADDRS);
		for (i = 0; i < r.chain_len; i++)
			FUZZ_ASSERT(strlen(r.chain[i].text) == r.chain[i].len);
	}

	err = dns_parse_response(data, size, &r);
	if (err) {
		static const struct dns_response zero;

		FUZZ_ASSERT(err == -EBADMSG);
		FUZZ_ASSERT(!memcmp(&r, &zero, sizeof(r)));
	} else {
		FUZZ_ASSERT(r.chain_len <= TFT_DNS_MAX_CHAIN);
		FUZZ_ASSERT(r.n_addrs <= TFT_DNS_MAX_ADDRS);
		FUZZ_ASSERT(!r.n_addrs || (r.qr && r.rcode == 0 && r.opcode == 0));
		for (i = 0; i < r.chain_len; i++) {
			FUZZ_ASSERT(r.chain[i].len <= TFT_DNS_TEXT_NAME_MAX);
			FUZZ_ASSERT(strlen(r.chain[i].text) == r.chain[i].len);
			escape_all(r.chain[i].text, r.chain[i].len);
		}
		for (i = 0; i < r.n_addrs; i++) {
			FUZZ_ASSERT(r.addrs[i].family == 4 || r.addrs[i].family == 6);
			FUZZ_ASSERT(r.addrs[i].chain_len >= 1 &&
				    r.addrs[i].chain_len <= r.chain_len);
			FUZZ_ASSERT(r.addrs[i].chain_ttl <= r.addrs[i].ttl);
		}
		FUZZ_ASSERT(dns_cache_add_response(cache, &r, now_ns) == 0);
		/* the last address added keeps at least its last name */
		if (r.n_addrs) {
			const struct dns_addr *a = &r.addrs[r.n_addrs - 1];

			if (r.chain[a->chain_len - 1].len) {
				FUZZ_ASSERT(dns_cache_lookup(cache, a->family, a->addr, now_ns,
							     &names) == TFT_DNS_HIT);
				FUZZ_ASSERT(dns_names_count(names) >= 1);
				for (i = 0; i < dns_names_count(names); i++) {
					size_t len;
					const char *s = dns_names_get(names, i, &len, NULL);

					FUZZ_ASSERT(s && strlen(s) == len);
				}
			}
		}
	}

	/* arbitrary bytes, NUL included, through the escapers */
	escape_all((const char *)data,
		   size < TFT_DNS_CACHE_NAME_MAX ? size : TFT_DNS_CACHE_NAME_MAX);

	/* advance time by 0..255 s so names expire now and then */
	now_ns += (uint64_t)(size ? data[size - 1] : 1) * 1000000000ull;
	if ((now_ns / 1000000000ull) % 7 == 0)
		dns_cache_expire(cache, now_ns);
	{
		struct dns_cache_stats st;

		dns_cache_stats(cache, &st);
		FUZZ_ASSERT(st.entries <= 64 && st.bytes <= 4096);
	}
	return 0;
}
