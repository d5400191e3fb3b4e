/* Internals of the node agent, shared by its files. Not for other modules.
 *
 * Threads: one sk_loop (the agent's main thread) owns every piece of
 * state: the pods, their probes, the Services. Nothing there blocks.
 * Blocking work (HTTP requests to the server, pod creation and removal,
 * nftables) runs in worker pools and posts its completion back to the
 * loop; watches run in threads of their own and post their events. The
 * HTTPS endpoint (logs, exec) runs in libmicrohttpd's threads and reads
 * only the runtime's files and sockets. */
#ifndef SKIFF_AGENT_INTERNAL_H
#define SKIFF_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "../api/api.h"
#include "../netns/netns.h"
#include "agent.h"

typedef struct agent agent;

/* ---- loop.c: posting work to the main loop ------------------------------ */
typedef void (*agent_fn)(agent *a, void *data);
/* Run fn(a, data) on the agent's loop thread, soon; from any thread. */
void agent_post(agent *a, agent_fn fn, void *data);

/* ---- pool.c: worker threads ---------------------------------------------
 * Each worker has its own API connection and network handle, made on
 * first use. `run` executes in the worker; `done` (may be NULL) then runs
 * on the loop with the same data. */
struct agent_worker {
	agent *a;
	sk_http *http;
	net_node *net;
};
typedef void (*agent_job_fn)(struct agent_worker *w, void *data);
typedef struct agent_pool agent_pool;
agent_pool *agent_pool_new(agent *a, const char *name, int min_threads, int max_threads);
void agent_pool_submit(agent_pool *p, agent_job_fn run, agent_fn done, void *data);
/* Wait for the queued jobs to finish and the threads to end. */
void agent_pool_free(agent_pool *p);
/* The worker's API client and node network (NULL and err when unavailable). */
sk_http *agent_worker_http(struct agent_worker *w, sk_err *err);
net_node *agent_worker_net(struct agent_worker *w, sk_err *err);

/* ---- client.c: the API over HTTP ----------------------------------------
 * Requests return < 0 on failure with err->code the HTTP status of an API
 * error (404, 409, 410, 422...) or an errno (< 100) for a transport
 * failure; err->msg is the Status message. */
int agent_http_new(const struct agent_config *cfg, sk_http **out, sk_err *err);
int agent_api(sk_http *h, const char *method, const char *path, const char *content_type,
	      json_t *body, json_t **out, sk_err *err);
/* Shorthands. */
int agent_api_get(sk_http *h, const char *path, json_t **out, sk_err *err);
int agent_api_merge_patch(sk_http *h, const char *path, json_t *patch, json_t **out, sk_err *err);

/* A list+watch loop in a thread of its own: the first event is a
 * AGENT_WATCH_SYNC with every current object (after each re-list too),
 * then ADDED/MODIFIED/DELETED as they come. Reconnects after errors with
 * a back-off; re-lists on 410 Gone. Events reach `cb` on the loop. */
enum agent_watch_type {
	AGENT_WATCH_SYNC,
	AGENT_WATCH_ADDED,
	AGENT_WATCH_MODIFIED,
	AGENT_WATCH_DELETED
};
typedef void (*agent_watch_cb)(agent *a, enum agent_watch_type type, json_t *obj, void *data);
typedef struct agent_watch agent_watch;
/* path: "/api/v1/pods"; query: "fieldSelector=spec.nodeName%3Dn1" or NULL. */
agent_watch *agent_watch_start(agent *a, const char *path, const char *query, agent_watch_cb cb,
			       void *data);
/* Ask it to end (returns at once); agent_watch_stop then waits and frees. */
void agent_watch_cancel(agent_watch *w);
void agent_watch_stop(agent_watch *w);

/* ---- the agent ---------------------------------------------------------- */
struct agent_pod_state;
struct agent_services;

struct agent {
	struct agent_config cfg; /* strings owned (copies) */
	char *node_name;
	char *host_ip;
	sk_loop *loop;
	int post_fd; /* eventfd */
	int stop_fd; /* eventfd: agent_stop */
	pthread_mutex_t post_lock;
	struct agent_post_item *post_head, *post_tail;
	atomic_bool stopping;
	bool own_signals;

	agent_pool *fast; /* short jobs: starts, API writes */
	agent_pool *slow; /* jobs that wait (graceful stops) */
	sk_http *http;	  /* for the loop thread's few synchronous calls at start */

	/* the node */
	json_t *node;			       /* our Node as last seen */
	int64_t alloc_cpu_milli, alloc_memory; /* allocatable */
	char *pod_cidr;			       /* from the Node (or --pod-cidr); NULL until known */
	bool net_ready;			       /* the node network is up */
	net_node *net;			       /* the loop's handle (DNS config, gateway) */
	net_dns *dns;
	uint64_t lease_timer;
	bool lease_inflight;
	json_t *node_status_sent;
	int64_t node_status_sent_ns;

	/* pods */
	struct agent_pod_state **pods; /* open addressing by uid */
	size_t pods_cap, pods_n;
	bool pods_synced; /* the first list of pods was seen */
	int inotify_fd;
	agent_watch *pod_watch, *node_watch, *svc_watch, *ep_watch;
	uint64_t housekeeping_timer;

	struct agent_services *svcs;

	/* events */
	struct agent_events *events;

	/* the HTTPS endpoint */
	struct agent_httpd *httpd; /* httpd.c */
	int port;		   /* the endpoint's port as bound */
};

/* agent.c: bring the node network (bridge, nftables, DNS) up once the pod
 * CIDR is known; starts what waited for it. */
void agent_network_up(agent *a);

/* httpd.c: the HTTPS endpoint (logs, exec) */
int agent_httpd_start(agent *a, sk_err *err);
void agent_httpd_stop(agent *a);

/* pods.c */
int agent_pods_init(agent *a, sk_err *err);
void agent_pods_free(agent *a);
void agent_pods_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data);
/* Start what waited for the node network. */
void agent_pods_network_ready(agent *a);

/* node.c */
int agent_node_register(agent *a, sk_err *err);
void agent_node_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data);
void agent_node_start_heartbeat(agent *a);
/* The node's Ready condition changes (network up). */
void agent_node_status_kick(agent *a);

/* ---- events.c: Events, aggregated as the kubelet's recorder does -------- */
struct agent_events;
struct agent_events *agent_events_new(agent *a);
void agent_events_free(struct agent_events *e);
/* An Event about `obj` (a Pod or the Node), field_path (may be NULL) the
 * container ("spec.containers{web}"): type "Normal" or "Warning".
 * The same reason and message for the same object within 10 minutes
 * bumps the count of the existing Event instead of creating another. */
void agent_event(agent *a, json_t *obj, const char *field_path, const char *type,
		 const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- services.c: Services and Endpoints to the dataplane and DNS -------- */
int agent_services_init(agent *a, sk_err *err);
/* End the writer (its completions are posted); then free. */
void agent_services_stop(agent *a);
void agent_services_free(agent *a);
void agent_services_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data);
void agent_endpoints_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data);
/* Program what was learnt before the node network came up. */
void agent_services_network_ready(agent *a);
/* The {SVC}_SERVICE_HOST... variables for a pod in namespace ns (new
 * NULL-terminated vector), from the Services known now. */
char **agent_service_env(agent *a, const char *ns, bool enable_service_links);

/* Pure helpers (unit-tested) */
/* A Service and its Endpoints (may be NULL) as the dataplane wants them;
 * 1 when the Service has a dataplane part or DNS records, 0 when it is
 * ignored (ExternalName), -1 with err when malformed. */
int agent_service_to_net(json_t *svc, json_t *eps, struct net_service *out, sk_err *err);
/* Append the docker-link style variables of one Service to env. */
char **agent_service_env_add(char **env, json_t *svc);

/* ---- status.c: pod status as the kubelet writes it (pure) -------------- */
struct agent_ctr_probe_view {
	const char *name;
	bool ready;   /* readiness (true when no readiness probe) */
	bool started; /* startup probe passed (true when none) */
};

struct agent_status_input {
	json_t *pod;			/* the Pod (spec, metadata, current status) */
	const struct rt_pod_status *rt; /* NULL: no sandbox yet */
	const struct agent_ctr_probe_view *probes;
	size_t n_probes;
	const char *pod_ip; /* NULL: none yet */
	const char *host_ip;
	int64_t start_time;	    /* unix seconds; 0: not started */
	int64_t now;		    /* unix seconds, for transition times */
	const char *waiting_reason; /* the pod cannot start: every container waits */
	const char *waiting_message;
	bool sandbox_ready;
	bool terminating; /* being stopped for deletion */
};
/* A new status object: phase, conditions, IPs, startTime,
 * (init)containerStatuses. Conditions keep their lastTransitionTime from
 * the current status when their value did not change. */
json_t *agent_pod_status(const struct agent_status_input *in);
/* "skiff://<pod uid>/<container>/<restart count>" */
char *agent_container_id(const char *pod_uid, const char *container, int restart_count);

/* ---- probe.c ------------------------------------------------------------ */
enum agent_probe_kind { PROBE_NONE, PROBE_EXEC, PROBE_HTTP, PROBE_TCP, PROBE_SLEEP };
struct agent_probe_spec {
	enum agent_probe_kind kind;
	char **command; /* exec */
	char *host;	/* httpGet/tcpSocket host; NULL: the pod IP */
	int port;	/* resolved port number */
	char *path;	/* httpGet path; "/" by default */
	bool https;	/* scheme HTTPS */
	char **headers; /* "Name: value" */
	int64_t initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
	int64_t termination_grace_s; /* -1: the pod's */
	int64_t sleep_s;	     /* lifecycle sleep action */
};
/* Parse a probe (livenessProbe, ...) or a lifecycle handler of container
 * cj; NULL json gives kind PROBE_NONE. Named ports are looked up in the
 * container's ports. Defaults: Kubernetes'. Errors name the field. */
int agent_probe_parse(json_t *probe, json_t *cj, const char *path, struct agent_probe_spec *out,
		      sk_err *err);
void agent_probe_spec_clear(struct agent_probe_spec *p);

/* A probe run, asynchronous on the loop: `done` gets the result (true:
 * success) and a message (for Unhealthy events). */
typedef void (*agent_probe_done)(agent *a, void *data, bool ok, const char *message);
struct agent_probe_run;
/* ip: the pod's IP (for HTTP and TCP without host); exec runs the helper
 * in the container `container` of pod `pod_id`. Returns NULL (and calls
 * nothing) only when it could not start; done then must be assumed failed
 * with the message in err. */
struct agent_probe_run *agent_probe_start(agent *a, const struct agent_probe_spec *spec,
					  const char *pod_id, const char *container, const char *ip,
					  agent_probe_done done, void *data, sk_err *err);
/* Abandon a run: done is never called. */
void agent_probe_cancel(struct agent_probe_run *r);
/* Parse an HTTP response status line ("HTTP/1.1 200 OK"): the code, or -1. */
int agent_http_status_code(const char *buf, size_t len);

/* ---- logs.c: container logs for `kubectl logs` -------------------------- */
struct agent_log_opts {
	bool follow, previous, timestamps;
	int64_t tail_lines;  /* < 0: all */
	int64_t since_ns;    /* records from this unix time on; 0: all */
	int64_t limit_bytes; /* 0: no limit */
};
struct agent_log_reader;
/* Errors: ENOENT (no such pod here), EINVAL (no such container, no
 * previous run, not started yet) with Kubernetes' messages. */
int agent_log_open(const char *state_dir, const char *ns, const char *pod, const char *container,
		   const struct agent_log_opts *o, struct agent_log_reader **out, sk_err *err);
/* Up to n bytes: > 0 bytes, 0 at the end, -2 when following and nothing
 * new came within wait_ms. */
ssize_t agent_log_read(struct agent_log_reader *r, char *buf, size_t n, int wait_ms);
void agent_log_close(struct agent_log_reader *r);
/* One CRI record as kubectl shows it (pure; unit-tested). */
void agent_log_format(const char *line, size_t len, bool timestamps, int64_t since_ns, sk_buf *out);

/* ---- exec.c: the exec helper as a child of the agent -------------------- */
struct agent_exec_proc {
	pid_t pid;
	int pidfd;
	int in, out, err; /* our ends; -1 when not piped */
	int pty;	  /* pty master when tty; in/out are -1 then */
};
/* Start `skiff __exec` for argv in the container: with pipes (or a pty
 * when tty) for what is asked. */
int agent_exec_spawn(const struct agent_config *cfg, const char *pod_id, const char *container,
		     char **argv, bool want_stdin, bool tty, struct agent_exec_proc *out,
		     sk_err *err);
void agent_exec_proc_close(struct agent_exec_proc *p);
/* The exit status of a reaped process as a shell sees it. */
int agent_exit_status(int wstatus);

#endif
