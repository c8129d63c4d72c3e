/* Builds flows through the real flow table, as the capture would. */
#ifndef TFT_TEST_FLOWS_H
#define TFT_TEST_FLOWS_H

#include <arpa/inet.h>
#include <string.h>

#include "flow_table.h"

/* A SYN from saddr:sport to daddr:dport (IPv4 text) seen on hook, at ts_ns. */
static inline const struct tft_flow *t_syn(struct flow_table *t, const char *saddr, uint16_t sport,
					   const char *daddr, uint16_t dport, int egress,
					   uint64_t ts_ns)
{
	struct tft_tcp_event ev;
	const struct tft_flow *f = NULL;

	memset(&ev, 0, sizeof(ev));
	ev.type = TFT_REC_TCP;
	ev.flags = TFT_TCP_SYN;
	ev.hook = egress ? TFT_HOOK_EGRESS : TFT_HOOK_INGRESS;
	ev.family = strchr(saddr, ':') ? 6 : 4;
	ev.sport = htons(sport);
	ev.dport = htons(dport);
	ev.ts_ns = ts_ns;
	ev.seq = 1000u + sport;
	inet_pton(ev.family == 4 ? AF_INET : AF_INET6, saddr, ev.saddr);
	inet_pton(ev.family == 4 ? AF_INET : AF_INET6, daddr, ev.daddr);
	if (flow_table_apply(t, &ev, &f) != TFT_CHANGE_NEW)
		return NULL;
	return f;
}

/* The answer to that SYN: SYN-ACK (accepted) or RST-ACK, after delay_ns. */
static inline void t_answer(struct flow_table *t, const char *saddr, uint16_t sport,
			    const char *daddr, uint16_t dport, int egress, uint64_t ts_ns,
			    int accept)
{
	struct tft_tcp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = TFT_REC_TCP;
	ev.flags = accept ? (TFT_TCP_SYN | TFT_TCP_ACK) : (TFT_TCP_RST | TFT_TCP_ACK);
	/* The answer travels the other way: ingress for an outgoing flow. */
	ev.hook = egress ? TFT_HOOK_INGRESS : TFT_HOOK_EGRESS;
	ev.family = strchr(saddr, ':') ? 6 : 4;
	ev.sport = htons(dport);
	ev.dport = htons(sport);
	ev.ts_ns = ts_ns;
	ev.ack = 1000u + sport + 1;
	inet_pton(ev.family == 4 ? AF_INET : AF_INET6, daddr, ev.saddr);
	inet_pton(ev.family == 4 ? AF_INET : AF_INET6, saddr, ev.daddr);
	flow_table_apply(t, &ev, NULL);
}

#endif
