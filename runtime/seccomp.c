/* The RuntimeDefault seccomp profile: containerd's default profile
 * (contrib/seccomp/seccomp_default.go) rebuilt with libseccomp. Default
 * action EPERM; an allow-list; personality() only with the usual personas;
 * clone() without namespace flags unless CAP_SYS_ADMIN is kept, clone3()
 * answering ENOSYS then (so libc falls back to clone); extra calls for
 * kept capabilities.
 *
 * The filter is compiled once per capability combination in the parent and
 * handed to the container's setup as classic BPF, so the child only does
 * one prctl(). */
#include "runtime_internal.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
	"chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
	"dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
	"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
	"fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
	"fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
	"fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv",
	"futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
	"geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
	"getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
	"getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
	"getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
	"gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
	"inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
	"io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
	"io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "membarrier",
	"memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
	"mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
	"mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "nanosleep", "newfstatat", "_newselect", "open", "openat",
	"openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "poll", "ppoll",
	"ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
	"pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
	"readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
	"recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
	"rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
	"setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
	"sigprocmask", "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat",
	"stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
	"timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
	"timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
	"uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
	/* kernel >= 4.8, and amd64 */
	"ptrace", "arch_prctl", "modify_ldt", NULL};

/* Calls allowed when the container keeps a capability. */
static const struct {
	int cap;
	const char *const names[26];
} by_cap[] = {
	{CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
	{CAP_SYS_ADMIN,
	 {"bpf",
	  "clone",
	  "clone3",
	  "fanotify_init",
	  "fsconfig",
	  "fsmount",
	  "fsopen",
	  "fspick",
	  "lookup_dcookie",
	  "mount",
	  "mount_setattr",
	  "move_mount",
	  "name_to_handle_at",
	  "open_tree",
	  "perf_event_open",
	  "quotactl",
	  "quotactl_fd",
	  "setdomainname",
	  "sethostname",
	  "setns",
	  "syslog",
	  "umount",
	  "umount2",
	  "unshare"}},
	{CAP_SYS_BOOT, {"reboot"}},
	{CAP_SYS_CHROOT, {"chroot"}},
	{CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
	{CAP_SYS_PACCT, {"acct"}},
	{CAP_SYS_PTRACE,
	 {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
	  "ptrace"}},
	{CAP_SYS_RAWIO, {"iopl", "ioperm"}},
	{CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
	{CAP_SYS_TTY_CONFIG, {"vhangup"}},
	{CAP_SYSLOG, {"syslog"}},
	{CAP_BPF, {"bpf"}},
	{CAP_PERFMON, {"perf_event_open"}},
};

static int allow_name(scmp_filter_ctx ctx, const char *name, sk_err *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call on this architecture */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r < 0 && r != -EEXIST)
		return sk_err_sys(err, -r, "seccomp rule for %s", name);
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint64_t caps, sk_err *err)
{
	static const uint32_t personas[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};
	const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
				  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
	int r;

	for (const char *const *n = allowed; *n; n++)
		if (allow_name(ctx, *n, err) < 0)
			return -1;
	for (size_t i = 0; i < SK_ARRAY_SIZE(personas); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_EQ, personas[i]));
		if (r < 0)
			return sk_err_sys(err, -r, "seccomp rule for personality");
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(by_cap); i++) {
		if (!(caps & RT_CAP_BIT(by_cap[i].cap)))
			continue;
		for (size_t k = 0; k < SK_ARRAY_SIZE(by_cap[i].names) && by_cap[i].names[k]; k++)
			if (allow_name(ctx, by_cap[i].names[k], err) < 0)
				return -1;
	}
	if (caps & RT_CAP_BIT(CAP_SYS_ADMIN))
		return 0;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		return sk_err_sys(err, -r, "seccomp rule for clone");
	return 0;
}

/* The capabilities the profile depends on. */
static uint64_t profile_key(uint64_t caps)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < SK_ARRAY_SIZE(by_cap); i++)
		mask |= RT_CAP_BIT(by_cap[i].cap);
	return caps & mask;
}

static int export_bpf(scmp_filter_ctx ctx, struct rt_seccomp_prog *out, sk_err *err)
{
	_cleanup_close_ int fd = memfd_create("seccomp", MFD_CLOEXEC);
	char *data = NULL;
	size_t len = 0;
	int r;

	if (fd < 0)
		return sk_err_sys(err, errno, "memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return sk_err_sys(err, -r, "export the seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0 || sk_read_fd(fd, 1 << 20, &data, &len, err) < 0)
		return sk_err_wrap(err, "read the seccomp filter");
	if (len == 0 || len % sizeof(struct sock_filter)) {
		free(data);
		return sk_err_set(err, EINVAL, "seccomp filter of %zu bytes", len);
	}
	out->filter = (struct sock_filter *)data;
	out->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

static int compile(uint64_t key, struct rt_seccomp_prog *out, sk_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int ret = -1;
	int r;

	if (!ctx)
		return sk_err_set(err, ENOMEM, "seccomp_init failed");
	/* the native arch plus the 32-bit ABIs a 64-bit kernel also accepts */
	r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (r == 0 || r == -EEXIST)
		r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
	if (r < 0 && r != -EEXIST)
		sk_err_sys(err, -r, "seccomp_arch_add");
	else if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		sk_err_set(err, EINVAL, "seccomp_attr_set");
	/* a binary tree instead of a linear list: short to evaluate, and the
	 * kernel runs the filter once per syscall number when it is loaded
	 * (the constant-action cache) */
	else if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		sk_err_set(err, EINVAL, "seccomp_attr_set optimize");
	else if (add_rules(ctx, key, err) == 0 && export_bpf(ctx, out, err) == 0)
		ret = 0;
	seccomp_release(ctx);
	return ret;
}

/* A fingerprint of the profile's definition, so a cached filter built
 * from an older allow-list (or another libseccomp) is never used. */
static uint64_t profile_hash(void)
{
	const struct scmp_version *v = seccomp_version();
	uint64_t h = 1469598103934665603ULL;

#define MIX(byte) (h = (h ^ (uint8_t)(byte)) * 1099511628211ULL)
	for (const char *const *n = allowed; *n; n++)
		for (const char *c = *n; *c || (MIX(0), 0); c++)
			MIX(*c);
	for (size_t i = 0; i < SK_ARRAY_SIZE(by_cap); i++) {
		MIX(by_cap[i].cap);
		for (size_t k = 0; k < SK_ARRAY_SIZE(by_cap[i].names) && by_cap[i].names[k]; k++)
			for (const char *c = by_cap[i].names[k]; *c || (MIX(0), 0); c++)
				MIX(*c);
	}
	MIX(2); /* the shape of the compiled filter (binary tree) */
	if (v) {
		MIX(v->major);
		MIX(v->minor);
		MIX(v->micro);
	}
#undef MIX
	return h;
}

static char *cache_path(const char *cache_dir, uint64_t key)
{
	return sk_asprintf("%s/seccomp-%016llx-%016llx.bpf", cache_dir,
			   (unsigned long long)profile_hash(), (unsigned long long)key);
}

static int cache_read(const char *path, struct rt_seccomp_prog *out)
{
	char *data = NULL;
	size_t len = 0;
	sk_err e;

	if (sk_read_file(path, 1 << 20, &data, &len, &e) < 0)
		return -1;
	if (len == 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > 4096) {
		free(data);
		return -1;
	}
	out->filter = (struct sock_filter *)data;
	out->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

static void cache_write(const char *cache_dir, const char *path, const struct rt_seccomp_prog *p)
{
	sk_err e;

	if (sk_mkdir_p(cache_dir, 0700, &e) == 0)
		(void)sk_write_file_atomic(path, p->filter, p->len * sizeof(struct sock_filter),
					   0600, &e);
}

/* Compiled filters of this process, by capability key. */
static struct seccomp_cache {
	uint64_t key;
	struct rt_seccomp_prog prog;
	struct seccomp_cache *next;
} * cache;

/* libseccomp needs ~10 ms to build this profile: keep the result in memory
 * and, when cache_dir is given, in a file that later processes read. */
int rt_seccomp_prepare(uint64_t caps, const char *cache_dir, struct rt_seccomp_prog *out,
		       sk_err *err)
{
	uint64_t key = profile_key(caps);
	_cleanup_free_ char *path = NULL;

	for (struct seccomp_cache *c = cache; c; c = c->next) {
		if (c->key == key) {
			*out = c->prog;
			return 0;
		}
	}
	struct seccomp_cache *c = sk_calloc(1, sizeof(*c));
	if (cache_dir)
		path = cache_path(cache_dir, key);
	if (!path || cache_read(path, &c->prog) < 0) {
		if (compile(key, &c->prog, err) < 0) {
			free(c);
			return sk_err_wrap(err, "build the RuntimeDefault seccomp profile");
		}
		if (path)
			cache_write(cache_dir, path, &c->prog);
		/* libseccomp's working memory: give it back (supervisors stay small) */
		malloc_trim(0);
	}
	c->key = key;
	c->next = cache;
	cache = c;
	*out = c->prog;
	return 0;
}

int rt_seccomp_load(const struct rt_seccomp_prog *p, sk_err *err)
{
	struct sock_fprog fprog = {.len = p->len, .filter = p->filter};

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		return sk_err_sys(err, errno, "load the seccomp filter");
	return 0;
}
