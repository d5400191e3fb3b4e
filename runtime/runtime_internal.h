/* Internal interfaces between the runtime's files. Not for other modules. */
#ifndef SKIFF_RUNTIME_INTERNAL_H
#define SKIFF_RUNTIME_INTERNAL_H

#include <linux/filter.h>
#include <sched.h>
#include <sys/capability.h>

#include "runtime.h"
#include "syscalls_internal.h"

/* ---- record.c: the token-line format of state files and the socket ---- */
struct rt_rec_reader {
	char *pos;
	char **tok; /* tokens of the current line, decoded in place */
	size_t n;
	size_t cap;
	int lineno;
};
void rt_rec_line(sk_buf *b, const char *key, char *const *tokens, size_t n);
void rt_rec_str(sk_buf *b, const char *key, const char *value); /* skipped when NULL */
void rt_rec_int(sk_buf *b, const char *key, int64_t value);
void rt_rec_strv(sk_buf *b, const char *key, char *const *v);
void rt_rec_reader_init(struct rt_rec_reader *r, char *text);
void rt_rec_reader_free(struct rt_rec_reader *r);
int rt_rec_next(struct rt_rec_reader *r); /* 1: a line in r->tok, 0: end */
int rt_rec_int_arg(const struct rt_rec_reader *r, size_t i, int64_t *out, sk_err *err);
char *rt_rec_dup_arg(const struct rt_rec_reader *r, size_t i);
char **rt_rec_strv_args(const struct rt_rec_reader *r, size_t from);
/* Replace a state file by rename (readers see old or new; no fsync). */
int rt_write_state(const char *path, const char *text, mode_t mode, sk_err *err);

/* ---- config.c ------------------------------------------------------------ */
/* Init containers first, then containers. */
struct rt_container_config *rt_pod_container_at(const struct rt_pod_config *cfg, size_t i);
char *rt_pod_config_serialize(const struct rt_pod_config *cfg);
int rt_pod_config_parse(char *text, struct rt_pod_config **out, sk_err *err);

/* ---- status.c ---------------------------------------------------------------- */
char *rt_pod_status_serialize(const struct rt_pod_status *st);
int rt_pod_status_parse(char *text, struct rt_pod_status *st, sk_err *err);
void rt_terminated_clear(struct rt_terminated *t);

enum rt_pod_phase rt_pod_phase_compute(const struct rt_pod_status *st, enum rt_restart_policy p);

/* ---- crilog.c ------------------------------------------------------------------ */
struct rt_crilog {
	int fd;
	char *dir;
	int restart;
	int64_t size;
	sk_buf partial[2]; /* an unfinished line of stdout, of stderr */
};
int rt_crilog_open(struct rt_crilog *l, const char *dir, int restart, sk_err *err);
/* Append what a container wrote on stream 0 (stdout) or 1 (stderr). */
void rt_crilog_feed(struct rt_crilog *l, int stream, const char *data, size_t n);
void rt_crilog_flush(struct rt_crilog *l, int stream);
void rt_crilog_close(struct rt_crilog *l);
char *rt_container_log_dir(const struct rt_pod_config *cfg, const char *container);

/* ---- caps.c ------------------------------------------------------------------ */
uint64_t rt_caps_supported(void);
int rt_caps_bound(uint64_t keep, sk_err *err);
int rt_caps_set(uint64_t caps, sk_err *err);

/* ---- seccomp.c ----------------------------------------------------------------- */
struct rt_seccomp_prog {
	struct sock_filter *filter;
	unsigned short len;
};
/* The RuntimeDefault filter for a container keeping caps (cached in memory
 * and, with cache_dir, on disk). */
int rt_seccomp_prepare(uint64_t caps, const char *cache_dir, struct rt_seccomp_prog *out,
		       sk_err *err);
int rt_seccomp_load(const struct rt_seccomp_prog *p, sk_err *err);

/* ---- cgroup.c, devices.c ---------------------------------------------------------- */
enum { RT_CG_CPU, RT_CG_MEMORY, RT_CG_PIDS, RT_CG_DEVICES, RT_CG_NCTRL };
int rt_cg_create(const char *rel, sk_err *err);
int rt_cg_apply(const char *rel, const struct rt_resources *r, bool container, sk_err *err);
void rt_cg_pod_resources(const struct rt_pod_config *cfg, struct rt_resources *out);
int rt_cg_enter(const char *rel, pid_t pid, sk_err *err);
int rt_cg_open_v2(const char *rel, sk_err *err);
int64_t rt_cg_oom_kills(const char *rel);
int rt_cg_kill(const char *rel, sk_err *err);
int rt_cg_remove(const char *rel, sk_err *err);
bool rt_cg_exists(const char *rel);
int rt_cg_devices(const char *rel, sk_err *err);
extern const char *const rt_device_rules_v1[];
int rt_devices_bpf_attach(int cgroup_fd, sk_err *err);

/* ---- user.c -------------------------------------------------------------------- */
struct rt_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t ngroups;
	char name[64];
	char home[256];
};
int rt_user_resolve(const struct rt_container_config *c, struct rt_user *u, sk_err *err);

/* ---- rootfs.c ------------------------------------------------------------------- */
enum rt_mkpath { RT_NOCREATE, RT_MKDIR, RT_MKFILE };
/* An O_PATH fd of path resolved beneath rootfd (symlinks stay inside),
 * creating what is missing as mk says. */
int rt_open_beneath(int rootfd, const char *path, enum rt_mkpath mk, sk_err *err);

struct rt_etc_file {
	const char *destination; /* NULL: unused slot */
	const char *source;	 /* a host file to bind, or */
	const char *content;	 /* or the text to write into the container's writable layer */
};

/* What the child needs to set up one container; prepared by the parent. */
struct rt_spawn {
	const struct rt_container_config *c;
	const char *hostname;	/* for a new UTS namespace (rt_run) */
	unsigned long ns_flags; /* CLONE_NEW* besides CLONE_NEWNS */
	uint64_t caps;
	bool seccomp;
	struct rt_seccomp_prog prog;
	const char *cg_rel;  /* the container's cgroup: v1, the child enters it itself */
	int cg_fd;	     /* v2: clone3(CLONE_INTO_CGROUP); -1 otherwise */
	const char *shm_dir; /* the pod's shared /dev/shm, or NULL for a tmpfs */
	char *scratch_dir;   /* an empty directory to mount the writable layer on */
	struct rt_etc_file etc[3];
	size_t *mount_order; /* volumes by destination depth */
	int stdio[3];	     /* dup'ed onto 0, 1, 2; -1: inherited */
	bool pdeathsig;
	int oom_score_adj; /* written when set_oom_score_adj */
	bool set_oom_score_adj;
	/* Run in the parent right after clone, while the child builds its
	 * root; the child enters its cgroup only after it returned (v1). */
	int (*after_clone)(void *data, sk_err *err);
	void *after_clone_data;
};
/* Build the container's root (mounts, not yet pivoted); returns its fd. */
int rt_rootfs_setup(const struct rt_spawn *s, sk_err *err);
/* pivot_root into it; closes rootfd. */
int rt_rootfs_pivot(int rootfd, sk_err *err);

/* ---- container.c ---------------------------------------------------------------- */
int rt_container_spawn(const struct rt_spawn *s, pid_t *pid, int *pidfd, sk_err *err);
/* The steps of a container's setup that exec into a running container
 * (exec.c) repeats: signals back to default, the container's environment
 * (its env, then PATH, HOSTNAME and HOME when missing), a checked chdir,
 * capabilities + user + no_new_privs + seccomp in their one working order,
 * and execve with the container's PATH search. */
int rt_reset_signals(sk_err *err);
char **rt_build_env(const struct rt_spawn *s, const struct rt_user *u);
int rt_enter_working_dir(const char *dir, sk_err *err);
int rt_apply_security(const struct rt_spawn *s, const struct rt_user *u, sk_err *err);
int rt_exec_command(char **argv, char **env, sk_err *err);
int rt_start_error_status(int code);
int rt_sandbox_namespaces_setup(const char *hostname, bool new_net, sk_err *err);

/* ---- sandbox.c: what rt_run and the supervisor share ------------------------------ */
/* Fill the parts of s that depend only on the container's config: caps,
 * seccomp program, mount order. */
int rt_spawn_prepare(struct rt_spawn *s, const struct rt_pod_config *pod,
		     const struct rt_container_config *c, sk_err *err);
void rt_spawn_release(struct rt_spawn *s);
char *rt_hosts_content(const struct rt_pod_config *cfg);
char *rt_resolv_content(const struct rt_pod_config *cfg);
char *rt_pod_cgroup(const struct rt_pod_config *cfg);
char *rt_container_cgroup(const struct rt_pod_config *cfg, const char *container);

#endif
