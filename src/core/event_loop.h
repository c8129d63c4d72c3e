/* One epoll loop for every source: ring buffer, timers, signals, keyboard, c-ares sockets. */
#ifndef TFT_EVENT_LOOP_H
#define TFT_EVENT_LOOP_H

#include <stdint.h>

struct event_loop;

/* Called with the epoll events that fired for fd. */
typedef void (*event_loop_fd_cb)(int fd, uint32_t events, void *ctx);
/* Called once per wakeup, after every fd callback of that wakeup: render here. */
typedef void (*event_loop_idle_cb)(void *ctx);

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT...). One registration per fd. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_loop_fd_cb cb,
		   void *ctx);
int event_loop_mod(struct event_loop *loop, int fd, uint32_t events);
/* Safe from inside a callback: a later event for fd in the same batch is dropped. */
int event_loop_del(struct event_loop *loop, int fd);

void event_loop_set_idle(struct event_loop *loop, event_loop_idle_cb cb, void *ctx);

/* Runs until event_loop_stop(); returns 0, or -errno if epoll_wait failed. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

/*
 * A periodic CLOCK_MONOTONIC timerfd (first expiry after interval_ms), or a
 * one-shot one when periodic is 0. Returns the fd or -errno; the caller adds
 * it to the loop and closes it.
 */
int event_loop_timerfd(unsigned interval_ms, int periodic);
/* Re-arms a timerfd; 0 ms disarms it. */
int event_loop_timerfd_set(int fd, unsigned interval_ms, int periodic);
/* Reads a timerfd's expiry count so it stops firing; returns the count. */
uint64_t event_loop_timerfd_ack(int fd);

#endif /* TFT_EVENT_LOOP_H */
