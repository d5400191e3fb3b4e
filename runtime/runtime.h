/* runtime: pod sandboxes, containers, cgroups, capabilities, seccomp and
 * the node's image store. Takes plain C structs, knows nothing of JSON or
 * HTTP. Prefix: rt_. */
#ifndef SKIFF_RUNTIME_H
#define SKIFF_RUNTIME_H

#include "../common/common.h"

/* ---- images (runtime/image.c) -------------------------------------------
 * An image is an unpacked rootfs directory in the node's image store:
 *
 *   <image_dir>/refs/<name>:<tag>     symlink to ../content/<id> ('/' in the
 *                                     name is stored as '+')
 *   <image_dir>/content/<id>/rootfs   the unpacked root file system
 *   <image_dir>/content/<id>/meta     name=, tag=, created=, size=, source=
 *
 * Image references are written as in Kubernetes (`busybox`,
 * `busybox:1.36`, `registry.example.com:5000/team/app:v2`); no tag means
 * `latest`, and `docker.io/library/busybox` is the same image as `busybox`.
 * Digests (`@sha256:...`) are refused: there is no registry behind the
 * store. Content is never changed once imported: a re-import under the same
 * reference points the reference at new content, and content is deleted
 * only when no reference names it and no overlay mount uses it. */
#define RT_IMAGE_DIR_DEFAULT "/var/lib/skiff/images"

/* What a container runs when its Pod does not say, as an OCI image config's
 * Entrypoint, Cmd, Env and WorkingDir: a Pod's `command` replaces the
 * entrypoint and its `args` replace the cmd, as in Kubernetes. Any of them
 * may be NULL (vectors are NULL-terminated). */
struct rt_image_config {
	char **entrypoint;
	char **cmd;
	char **env; /* "KEY=value" */
	char *workdir;
};

struct rt_image {
	char *name;	 /* normalised repository name ("busybox", "reg:5000/a/b") */
	char *tag;	 /* "latest" when the reference had none */
	char *id;	 /* content id, 32 hex digits */
	char *rootfs;	 /* canonical path of the unpacked rootfs */
	int64_t created; /* unix seconds of the import */
	uint64_t size;	 /* bytes of regular files, each inode once */
	char *source;	 /* the directory or tarball it was imported from */
	struct rt_image_config config;
};

/* Parse and normalise a reference: *name and *tag are allocated. Errors
 * name the reference and the rule it breaks. */
int rt_image_ref_parse(const char *ref, char **name, char **tag, sk_err *err);

/* Import a rootfs into the store under ref: `source` is a directory (copied,
 * keeping modes, owners, symlinks, hard links, devices, xattrs and times;
 * mount points below it are not crossed) or a .tar/.tar.gz/.tar.xz/... of a
 * rootfs ("-" reads the tarball from stdin; no entry may land outside the
 * image). Atomic: the reference appears only when the copy is complete.
 * `config` (may be NULL) is stored with the image. When `out` is not NULL
 * it receives the imported image (rt_image_clear() it). */
int rt_image_import(const char *image_dir, const char *ref, const char *source,
		    const struct rt_image_config *config, struct rt_image *out, sk_err *err);

/* The canonical, symlink-free path of the image's rootfs in *rootfs
 * (allocated), or an error naming the image and the store. Use exactly this
 * string as the overlay lowerdir: in-use checks look for it in mountinfo. */
int rt_image_resolve(const char *image_dir, const char *ref, char **rootfs, sk_err *err);

/* The image a reference names, with its metadata (rt_image_clear() it). */
int rt_image_inspect(const char *image_dir, const char *ref, struct rt_image *out, sk_err *err);

/* All images, sorted by name and tag; an absent store is an empty list. */
int rt_image_list(const char *image_dir, struct rt_image **images, size_t *n, sk_err *err);
void rt_image_list_free(struct rt_image *images, size_t n);
void rt_image_clear(struct rt_image *image);

/* Remove a reference. An image whose rootfs is mounted by a container is
 * refused unless `force`; with force the reference goes at once and the
 * content stays until its last user is gone (collected by a later import
 * or rm). */
int rt_image_remove(const char *image_dir, const char *ref, bool force, sk_err *err);
/* ---- end of images ------------------------------------------------------ */

/* ---- pods and containers (the runtime files but image*.c) -------------
 * A pod is run by one supervisor process (spawned by rt_pod_create, it
 * outlives its starter) that holds the pod's network, IPC and UTS
 * namespaces, starts the containers as its children, reaps them, writes
 * their logs in the CRI format and restarts them by the restart policy. The
 * supervisor answers on a unix socket in the pod's state directory; the
 * functions below talk to it. `skiff run` uses rt_run, which runs one
 * container in the foreground without a separate supervisor. See
 * docs/runtime.md. */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RT_DEFAULT_STATE_DIR "/run/skiff"
#define RT_DEFAULT_DATA_DIR "/var/lib/skiff/pods"
#define RT_DEFAULT_LOG_DIR "/var/log/skiff/pods"
#define RT_DEFAULT_CGROUP_ROOT "skiff"
#define RT_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- configuration ------------------------------------------------------ */

enum rt_restart_policy { RT_RESTART_ALWAYS, RT_RESTART_ON_FAILURE, RT_RESTART_NEVER };
enum rt_seccomp_profile { RT_SECCOMP_RUNTIME_DEFAULT, RT_SECCOMP_UNCONFINED };
/* mountPropagation: None (rprivate), HostToContainer (rslave),
 * Bidirectional (rshared, privileged containers only). */
enum rt_propagation {
	RT_PROPAGATION_NONE,
	RT_PROPAGATION_HOST_TO_CONTAINER,
	RT_PROPAGATION_BIDIRECTIONAL
};

/* A bind mount of a host path into a container (volumes/ prepares them). */
struct rt_mount {
	char *source;	   /* host path */
	char *destination; /* absolute path in the container, resolved beneath its root */
	char *sub_path;	   /* NULL, or a path below source resolved beneath it (subPath) */
	bool read_only;
	enum rt_propagation propagation;
};

/* Resource settings as the kubelet maps them; 0 means "not set". */
struct rt_resources {
	int64_t cpu_limit_milli;   /* limits.cpu -> cpu.max / cfs quota */
	int64_t cpu_request_milli; /* requests.cpu -> cpu.weight / cpu.shares */
	int64_t memory_limit;	   /* limits.memory, bytes -> memory.max / limit_in_bytes */
	int64_t memory_request;	   /* requests.memory, bytes (recorded only) */
	int64_t pids_limit;	   /* pids.max */
};

/* Capability sets are bit masks of CAP_* numbers. */
#define RT_CAPS_ALL (~(uint64_t)0)
#define RT_CAP_BIT(c) ((uint64_t)1 << (c))

struct rt_container_config {
	char *name;
	char *image;	   /* as the user named it ("busybox:latest"); status only */
	char *rootfs;	   /* the unpacked image: read-only lower of the overlay */
	char **argv;	   /* NULL-terminated; argv[0] is looked up in the container's PATH */
	char **env;	   /* "NAME=value", NULL-terminated; may be NULL */
	char *working_dir; /* NULL: "/" (created if missing) */
	/* User: uid/gid < 0 mean "not set" (uid 0; gid from the container's
	 * /etc/passwd). `user` (a name, for `skiff run --user NAME`) is looked
	 * up in the container's /etc/passwd when set. */
	int64_t uid;
	int64_t gid;
	char *user;
	gid_t *supplemental_groups;
	size_t n_supplemental_groups;
	uint64_t cap_add;  /* added to containerd's default set */
	uint64_t cap_drop; /* RT_CAPS_ALL for "ALL" */
	bool privileged;
	bool no_new_privs; /* allowPrivilegeEscalation: false */
	bool read_only_rootfs;
	enum rt_seccomp_profile seccomp;
	struct rt_resources resources;
	struct rt_mount *mounts;
	size_t n_mounts;
};

struct rt_pod_config {
	char *name;
	char *namespace; /* NULL: "default" */
	char *uid;	 /* metadata.uid; NULL: generated */
	char *hostname;	 /* NULL: the pod's name */
	bool host_network;
	bool host_ipc;
	bool host_pid; /* containers share the host's PID namespace */
	/* Join this network namespace (a path such as /run/netns/NAME, made by
	 * netns/) instead of creating an empty one. */
	char *netns_path;
	char *pod_ip;	      /* shown in status and /etc/hosts */
	char **hosts_entries; /* extra /etc/hosts lines ("10.0.0.1 a b"), NULL-terminated */
	char *resolv_conf;    /* the whole /etc/resolv.conf; NULL: a copy of the host's */
	enum rt_restart_policy restart_policy;
	int64_t termination_grace_seconds;
	int64_t pids_limit; /* pod-level pids.max (kubelet's podPidsLimit); 0: none */
	char *cgroup_root;  /* top-level cgroup of skiff's own; NULL: "skiff" */
	char *state_dir;    /* NULL: RT_DEFAULT_STATE_DIR */
	char *log_dir;	    /* NULL: RT_DEFAULT_LOG_DIR */
	char *data_dir;	    /* disk-backed volumes; NULL: RT_DEFAULT_DATA_DIR */
	struct rt_container_config *init_containers;
	size_t n_init_containers;
	struct rt_container_config *containers;
	size_t n_containers;
};

/* A pod config with Kubernetes' defaults (restartPolicy Always, grace 30 s,
 * seccomp RuntimeDefault on each container added with
 * rt_pod_add_container). Free with rt_pod_config_free. */
struct rt_pod_config *rt_pod_config_new(void);
void rt_pod_config_free(struct rt_pod_config *cfg);
/* Append an empty container with defaults; returns it (owned by cfg). */
struct rt_container_config *rt_pod_add_container(struct rt_pod_config *cfg, bool init);
/* Append an empty mount to c; returns it (owned by c). */
struct rt_mount *rt_container_add_mount(struct rt_container_config *c);
/* Check names, paths and limits; fills in defaults (namespace, uid,
 * hostname, dirs, cgroup root). Errors name the field. */
int rt_pod_config_check(struct rt_pod_config *cfg, sk_err *err);
/* "NAMESPACE_NAME": the pod's directory name in the state dir. */
char *rt_pod_id(const char *namespace, const char *name);

/* Capability names ("NET_ADMIN", "CAP_NET_ADMIN", "ALL", case-insensitive)
 * to a bit mask; containerd's default set. */
int rt_cap_from_name(const char *name, uint64_t *mask, sk_err *err);
uint64_t rt_caps_default(void);
/* The container's effective set: default (or all when privileged) + add - drop. */
uint64_t rt_caps_effective(const struct rt_container_config *c);

/* ---- status -------------------------------------------------------------
 * Made so the agent can fill Kubernetes containerStatuses from it. Times
 * are nanoseconds since the epoch (0: unset). Reasons are Kubernetes'
 * strings: waiting ContainerCreating / PodInitializing / CrashLoopBackOff,
 * terminated Completed / Error / OOMKilled / StartError. */
enum rt_container_state { RT_WAITING, RT_RUNNING, RT_TERMINATED };
enum rt_pod_phase {
	RT_PHASE_PENDING,
	RT_PHASE_RUNNING,
	RT_PHASE_SUCCEEDED,
	RT_PHASE_FAILED,
	RT_PHASE_UNKNOWN
};

struct rt_terminated {
	int exit_code;
	int signal;
	char *reason;
	char *message;
	int64_t started_at;
	int64_t finished_at;
};

struct rt_container_status {
	char *name;
	char *image;
	bool init;
	enum rt_container_state state;
	char *reason;  /* waiting or terminated reason */
	char *message; /* e.g. the error of a failed start */
	int exit_code; /* terminated */
	int signal;    /* terminated by this signal (exit_code is then 128+signal) */
	int64_t started_at;
	int64_t finished_at;
	int restart_count;
	pid_t pid; /* host pid of the container's init while running */
	bool has_last_state;
	struct rt_terminated last_state;
};

struct rt_pod_status {
	char *id;
	char *name;
	char *namespace;
	char *uid;
	char *pod_ip;
	enum rt_pod_phase phase;
	bool stopping; /* a stop was requested */
	pid_t supervisor_pid;
	bool supervisor_alive; /* false: read from the last state file */
	int64_t created_at;
	struct rt_container_status *init_containers;
	size_t n_init_containers;
	struct rt_container_status *containers;
	size_t n_containers;
};

void rt_pod_status_free(struct rt_pod_status *st);
const char *rt_phase_name(enum rt_pod_phase phase);
const char *rt_state_name(enum rt_container_state state);
/* A one-word summary as `kubectl get pods` shows in STATUS. */
const char *rt_pod_status_summary(const struct rt_pod_status *st);

/* ---- pods ------------------------------------------------------------------
 * Pods are named by their id (rt_pod_id) inside a state directory. */

/* Check cfg, write the pod's state directory and spawn its supervisor;
 * returns once the sandbox (namespaces, cgroups) is ready. Containers start
 * in the background: use rt_pod_wait_started. */
int rt_pod_create(struct rt_pod_config *cfg, sk_err *err);
/* Wait until the first start of every container was attempted (after the
 * init containers) or the pod ended; fills st when non-NULL. */
int rt_pod_wait_started(const char *state_dir, const char *id, int timeout_ms,
			struct rt_pod_status *st, sk_err *err);
int rt_pod_status(const char *state_dir, const char *id, struct rt_pod_status *st, sk_err *err);
/* The status the supervisor last wrote to <pod dir>/status (it renames a
 * new file into place on every change, so inotify's IN_MOVED_TO on the pod
 * directory tells when to read it); no round trip to the supervisor.
 * supervisor_alive is only a hint here (the pid exists). */
int rt_pod_status_file(const char *state_dir, const char *id, struct rt_pod_status *st,
		       sk_err *err);
/* SIGTERM to every container, SIGKILL after the grace period (grace_s < 0:
 * the pod's terminationGracePeriodSeconds); no restarts afterwards. Returns
 * when all containers have ended. */
int rt_pod_stop(const char *state_dir, const char *id, int64_t grace_s, sk_err *err);
/* Stop (with grace_s as above) and remove everything the pod made:
 * processes, mounts, cgroups, state, data (emptyDir) and log files. Works
 * also when the supervisor is gone. */
int rt_pod_remove(const char *state_dir, const char *id, int64_t grace_s, sk_err *err);
/* The ids of the pods in state_dir, sorted; NULL-terminated. */
int rt_pod_list(const char *state_dir, char ***ids, sk_err *err);
/* The pod's config as it was created (for adoption by a restarted agent). */
int rt_pod_config_load(const char *state_dir, const char *id, struct rt_pod_config **cfg,
		       sk_err *err);
/* Where a container's current log file is (CRI format). */
char *rt_container_log_path(const struct rt_pod_config *cfg, const char *container,
			    int restart_count);

/* ---- a command in a running container (runtime/exec.c) --------------------
 * What `kubectl exec`, exec probes and lifecycle hooks run. */
struct rt_exec_config {
	char **argv; /* NULL-terminated; argv[0] searched in the container's PATH */
	char **env;  /* "K=V" added after the container's own; may be NULL */
	bool tty;    /* stdin is a terminal: it becomes the controlling tty */
	/* with tty: a unix socket (> 0) to which the master of a terminal made
	 * in the container's own /dev/pts is sent (SCM_RIGHTS); the slave
	 * becomes the command's stdio. 0: this process's stdio is used. */
	int console_fd;
};
/* Run ec->argv inside `container` (running) of pod `id`: its namespaces,
 * cgroup, user, capabilities, no_new_privs, seccomp filter, environment and
 * working directory, with this process's stdio. Only for a single-threaded
 * process (the `skiff __exec` helper): it joins the container itself, forks
 * the command (killed when the caller dies), waits, and leaves its
 * shell-style exit status in *status. A failure before exec returns -1 with
 * the real message (ESRCH: the container is not running; ENOENT: no such
 * container or command). */
int rt_exec(const char *state_dir, const char *id, const char *container,
	    const struct rt_exec_config *ec, int *status, sk_err *err);

/* The hidden supervisor entry point (`skiff __supervisor POD_DIR FD`). */
int rt_supervisor_main(const char *pod_dir, int ready_fd);

/* ---- one container in the foreground (`skiff run`) ----------------------
 * cfg holds one container. Runs it with stdio inherited, forwards SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT to it, and removes everything afterwards.
 * *status is the shell-style exit status (128+signal when killed);
 * *oom_killed tells an OOM kill. A failure before exec returns -1 with the
 * real message and *status 127 (not found), 126 (not executable) or 125. */
int rt_run(struct rt_pod_config *cfg, int *status, bool *oom_killed, sk_err *err);

/* ---- cgroups -------------------------------------------------------------- */
enum rt_cgroup_mode { RT_CGROUP_V1, RT_CGROUP_V2 };
/* Detected once with statfs(2) on /sys/fs/cgroup. */
int rt_cgroup_mode(enum rt_cgroup_mode *mode, sk_err *err);

#endif
