/*
 * epoll registry. Handlers are found by fd in a table rather than through a
 * pointer in epoll_data, because a callback may delete another fd of the same
 * batch (c-ares closes sockets from inside ares_process_fd): before each
 * dispatch the registration is looked up again, as redis' ae.c re-checks masks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event_loop.h"

#define MAX_EVENTS 32

struct watch {
	event_loop_fd_cb cb; /* NULL when the fd is not registered */
	void *ctx;	     /* borrowed */
	uint32_t events;
};

struct event_loop {
	int epfd;
	int running;
	struct watch *watches; /* owned, indexed by fd */
	int nwatches;
	event_loop_idle_cb idle;
	void *idle_ctx; /* borrowed */
};

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = errno;

		free(loop);
		errno = err;
		return NULL;
	}
	return loop;
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->watches);
	free(loop);
}

static int grow(struct event_loop *loop, int fd)
{
	struct watch *w;
	int n;

	if (fd < loop->nwatches)
		return 0;
	n = loop->nwatches ? loop->nwatches : 16;
	while (n <= fd)
		n *= 2;
	w = realloc(loop->watches, (size_t)n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + loop->nwatches, 0, (size_t)(n - loop->nwatches) * sizeof(*w));
	loop->watches = w;
	loop->nwatches = n;
	return 0;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_loop_fd_cb cb, void *ctx)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	int err;

	if (fd < 0 || !cb)
		return -EINVAL;
	err = grow(loop, fd);
	if (err)
		return err;
	if (loop->watches[fd].cb)
		return -EEXIST;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->watches[fd] = (struct watch){.cb = cb, .ctx = ctx, .events = events};
	return 0;
}

int event_loop_mod(struct event_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (fd < 0 || fd >= loop->nwatches || !loop->watches[fd].cb)
		return -ENOENT;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	loop->watches[fd].events = events;
	return 0;
}

int event_loop_del(struct event_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nwatches || !loop->watches[fd].cb)
		return -ENOENT;
	loop->watches[fd].cb = NULL;
	/* The fd may already be closed (c-ares closes first): ignore EBADF. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF)
		return -errno;
	return 0;
}

void event_loop_set_idle(struct event_loop *loop, event_loop_idle_cb cb, void *ctx)
{
	loop->idle = cb;
	loop->idle_ctx = ctx;
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n;

	loop->running = 1;
	while (loop->running) {
		n = epoll_wait(loop->epfd, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && loop->running; i++) {
			int fd = evs[i].data.fd;
			struct watch *w;

			if (fd >= loop->nwatches || !loop->watches[fd].cb)
				continue; /* deleted earlier in this batch */
			w = &loop->watches[fd];
			w->cb(fd, evs[i].events, w->ctx);
		}
		if (loop->idle && loop->running)
			loop->idle(loop->idle_ctx);
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->running = 0;
}

int event_loop_timerfd_set(int fd, unsigned interval_ms, int periodic)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = interval_ms / 1000;
	its.it_value.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
	if (periodic)
		its.it_interval = its.it_value;
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int event_loop_timerfd(unsigned interval_ms, int periodic)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	err = event_loop_timerfd_set(fd, interval_ms, periodic);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

uint64_t event_loop_timerfd_ack(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
