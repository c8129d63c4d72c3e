/*
 * Listener scan benchmark (bench/run only, not a test).
 *   listenerscan [ROUNDS]   times one scan of the listeners and their owners
 *                           (proc_listeners_new on /proc) from each table,
 *                           sock_diag and /proc/net, taking turns
 * The difference shows when the host holds many sockets that are not
 * listeners: bench/run runs it after a connect storm's TIME_WAIT sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "proc_listeners.h"

static double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One scan from table: its time in ms, the listeners with owners in *n. */
static double scan_ms(enum listener_table table, size_t *n)
{
	double t0 = ms_now();
	struct proc_listeners *l = proc_listeners_new("/proc", NULL, table);
	double t = ms_now() - t0;

	*n = l ? proc_listeners_count(l) : 0;
	proc_listeners_free(l);
	return l ? t : -1;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	size_t n_diag = 0, n_proc = 0;

	if (rounds < 1 || rounds > 100) {
		fprintf(stderr, "usage: listenerscan [ROUNDS (1-100)]\n");
		return 2;
	}
	printf("%-8s %12s %12s %10s\n", "round", "sock_diag_ms", "proc_net_ms", "listeners");
	for (int i = 0; i < rounds; i++) {
		double d = scan_ms(LISTENER_TABLE_SOCK_DIAG, &n_diag);
		double p = scan_ms(LISTENER_TABLE_PROC_NET, &n_proc);

		printf("%-8d %12.2f %12.2f %5zu/%zu\n", i + 1, d, p, n_diag, n_proc);
	}
	return n_diag == n_proc ? 0 : 1;
}
