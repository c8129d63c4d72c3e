/*
 * The exporters as one piece for main.c: the metrics (kept from the
 * pipeline, served over HTTP) and the IPFIX records. Made before the
 * capture (the sinks hear every flow, the metrics port is bound while
 * privileged), started after the privilege drop (their threads have none),
 * ticked from the capture thread's drain timer.
 */
#ifndef TFT_EXPORTERS_H
#define TFT_EXPORTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_pipeline.h"
#include "ipfix.h"
#include "metrics.h"

struct exporters_opts {
	const char *metrics_addr; /* --metrics ADDR:PORT; NULL: no metrics */
	struct metrics_opts metrics;
	bool ipfix_on; /* --ipfix */
	struct ipfix_opts ipfix;
};

struct exporters;

/*
 * Binds the metrics port and adds the sinks to p (borrowed, must outlive
 * the exporters). NULL with errno and one line in err.
 */
struct exporters *exporters_new(const struct exporters_opts *o, struct flow_pipeline *p, char *err,
				size_t errlen);
/* Starts the serving and sending threads. 0 or -errno, one line in err. */
int exporters_start(struct exporters *e, char *err, size_t errlen);
/* From the capture thread, every few tens of ms: publishes the metrics, IPFIX active timeouts. */
void exporters_tick(struct exporters *e, uint64_t now_ns);
/* What runs, for the start line: "metrics on http://127.0.0.1:9477/metrics, IPFIX ...". */
void exporters_describe(const struct exporters *e, char *buf, size_t size);
/*
 * Sends the IPFIX records still queued and stops the threads; buf gets the
 * exporters' figures for the exit line. Call after flow_pipeline_finish.
 */
void exporters_finish(struct exporters *e, char *buf, size_t size);
void exporters_free(struct exporters *e);

#endif /* TFT_EXPORTERS_H */
