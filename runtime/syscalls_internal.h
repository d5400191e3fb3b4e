/* Raw system calls glibc 2.36 does not wrap (or wraps late), in one place.
 * Each returns -1 with errno like libc does. */
#ifndef SKIFF_RUNTIME_SYSCALLS_INTERNAL_H
#define SKIFF_RUNTIME_SYSCALLS_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* clone3 with fork semantics (no new stack): returns 0 in the child. */
static inline pid_t rt_clone3(struct clone_args *args)
{
	return (pid_t)syscall(SYS_clone3, args, sizeof(*args));
}

/* A scoped lookup (RESOLVE_IN_ROOT, RESOLVE_BENEATH) through ".." fails
 * with EAGAIN when any rename or mount anywhere on the machine races with
 * it, and the kernel asks the caller to retry: busy nodes mount all the
 * time (seen in CI: a pod's volume setup failed). Bounded, so that a
 * machine mounting without pause cannot hold a pod start forever. */
static inline int rt_openat2(int dirfd, const char *path, struct open_how *how)
{
	int fd, tries = 0;

	do
		fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 1000);
	return fd;
}

static inline int rt_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int rt_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int rt_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

static inline int rt_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

#endif
