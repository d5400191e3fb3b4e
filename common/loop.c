/* A small epoll event loop: fds, one-shot timers kept in a sorted list
 * (daemons here hold a handful; a heap is not worth it), signals by
 * signalfd. Callbacks may add or remove registrations, including their
 * own, while the loop runs. */
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct loop_fd {
	int fd;
	sk_loop_fd_cb cb;
	void *data;
	bool removed;
	struct loop_fd *next;
};

struct loop_timer {
	uint64_t id;
	int64_t due_ns;
	sk_loop_timer_cb cb;
	void *data;
	struct loop_timer *next;
};

struct loop_signal {
	int signo;
	sk_loop_signal_cb cb;
	void *data;
};

struct sk_loop {
	int epfd;
	int sigfd;
	sigset_t sigmask;
	struct loop_fd *fds;
	struct loop_timer *timers;
	uint64_t next_timer_id;
	struct loop_signal signals[16];
	int nsignals;
	bool stop;
	sk_err err;
};

int sk_loop_new(sk_loop **out, sk_err *err)
{
	sk_loop *l = sk_calloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return sk_err_sys(err, errno, "epoll_create1");
	}
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	*out = l;
	return 0;
}

void sk_loop_free(sk_loop *l)
{
	if (!l)
		return;
	while (l->fds) {
		struct loop_fd *f = l->fds;
		l->fds = f->next;
		free(f);
	}
	while (l->timers) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
}

int sk_loop_add_fd(sk_loop *l, int fd, uint32_t events, sk_loop_fd_cb cb, void *data, sk_err *err)
{
	struct loop_fd *f = sk_calloc(1, sizeof(*f));
	struct epoll_event ev = {.events = events, .data.ptr = f};

	f->fd = fd;
	f->cb = cb;
	f->data = data;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(f);
		return sk_err_sys(err, errno, "epoll add fd %d", fd);
	}
	f->next = l->fds;
	l->fds = f;
	return 0;
}

static struct loop_fd *find_fd(sk_loop *l, int fd)
{
	for (struct loop_fd *f = l->fds; f; f = f->next)
		if (f->fd == fd && !f->removed)
			return f;
	return NULL;
}

int sk_loop_mod_fd(sk_loop *l, int fd, uint32_t events, sk_err *err)
{
	struct loop_fd *f = find_fd(l, fd);
	struct epoll_event ev = {.events = events, .data.ptr = f};

	if (!f)
		return sk_err_set(err, ENOENT, "fd %d is not in the loop", fd);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return sk_err_sys(err, errno, "epoll mod fd %d", fd);
	return 0;
}

/* Marked, not freed: an event for it may still sit in the current batch. */
void sk_loop_del_fd(sk_loop *l, int fd)
{
	struct loop_fd *f = find_fd(l, fd);

	if (!f)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	f->removed = true;
}

static void reap_removed_fds(sk_loop *l)
{
	struct loop_fd **pp = &l->fds;

	while (*pp) {
		struct loop_fd *f = *pp;
		if (f->removed) {
			*pp = f->next;
			free(f);
		} else {
			pp = &f->next;
		}
	}
}

uint64_t sk_loop_add_timer(sk_loop *l, int64_t delay_ms, sk_loop_timer_cb cb, void *data)
{
	struct loop_timer *t = sk_calloc(1, sizeof(*t));
	struct loop_timer **pp = &l->timers;

	t->id = ++l->next_timer_id;
	t->due_ns = sk_monotonic_ns() + (delay_ms > 0 ? delay_ms : 0) * 1000000LL;
	t->cb = cb;
	t->data = data;
	while (*pp && (*pp)->due_ns <= t->due_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t->id;
}

void sk_loop_cancel_timer(sk_loop *l, uint64_t id)
{
	for (struct loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct loop_timer *t = *pp;
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static int on_signalfd(sk_loop *l, int fd, uint32_t events SK_UNUSED, void *data SK_UNUSED)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (int i = 0; i < l->nsignals; i++) {
			if (l->signals[i].signo == (int)si.ssi_signo &&
			    l->signals[i].cb(l, (int)si.ssi_signo, l->signals[i].data) < 0)
				return -1;
		}
	}
	return 0;
}

int sk_loop_add_signal(sk_loop *l, int signo, sk_loop_signal_cb cb, void *data, sk_err *err)
{
	int fd;

	if (l->nsignals == (int)SK_ARRAY_SIZE(l->signals))
		return sk_err_set(err, ENOSPC, "too many signal handlers");
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return sk_err_sys(err, errno, "sigprocmask");
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return sk_err_sys(err, errno, "signalfd");
	if (l->sigfd < 0 && sk_loop_add_fd(l, fd, EPOLLIN, on_signalfd, NULL, err) < 0) {
		close(fd);
		return -1;
	}
	l->sigfd = fd;
	l->signals[l->nsignals++] = (struct loop_signal){signo, cb, data};
	return 0;
}

static int run_due_timers(sk_loop *l)
{
	int64_t now = sk_monotonic_ns();

	while (l->timers && l->timers->due_ns <= now && !l->stop) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		int ret = t->cb(l, t->data);
		free(t);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int next_timeout_ms(sk_loop *l)
{
	int64_t d;

	if (!l->timers)
		return -1;
	d = (l->timers->due_ns - sk_monotonic_ns() + 999999) / 1000000;
	if (d < 0)
		return 0;
	return d > 1000000 ? 1000000 : (int)d;
}

int sk_loop_run(sk_loop *l, sk_err *err)
{
	struct epoll_event evs[64];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, (int)SK_ARRAY_SIZE(evs), next_timeout_ms(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sk_err_sys(err, errno, "epoll_wait");
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct loop_fd *f = evs[i].data.ptr;
			if (f->removed)
				continue;
			if (f->cb(l, f->fd, evs[i].events, f->data) < 0) {
				if (err)
					*err = l->err;
				return -1;
			}
		}
		reap_removed_fds(l);
		if (run_due_timers(l) < 0) {
			if (err)
				*err = l->err;
			return -1;
		}
	}
	return 0;
}

void sk_loop_stop(sk_loop *l)
{
	l->stop = true;
}

sk_err *sk_loop_err(sk_loop *l)
{
	return &l->err;
}
