/* agent: the node agent (kubelet and kube-proxy in one). Prefix: agent_.
 * This header grows with the agent's issue; the pod spec translation below
 * is the one place where a Kubernetes PodSpec becomes runtime configs. */
#ifndef SKIFF_AGENT_H
#define SKIFF_AGENT_H

#include <jansson.h>

#include "../common/common.h"
#include "../runtime/runtime.h"
#include "../volumes/volumes.h"

/* ---- pod specs (agent/podspec.c) ----------------------------------------- */

/* Where a node keeps things; NULL fields take the runtime's defaults. */
struct agent_pod_options {
	const char *image_dir;	 /* the image store (RT_IMAGE_DIR_DEFAULT) */
	const char *state_dir;	 /* RT_DEFAULT_STATE_DIR */
	const char *log_dir;	 /* RT_DEFAULT_LOG_DIR */
	const char *data_dir;	 /* RT_DEFAULT_DATA_DIR */
	const char *cgroup_root; /* RT_DEFAULT_CGROUP_ROOT */
	const char *resolv_conf; /* the pod's /etc/resolv.conf base; NULL: the host's */
	/* what the node agent knows besides the Pod (all may be NULL / 0) */
	const char *const *extra_env; /* "K=V" before each container's own env (Services') */
	const char *node_name;	      /* downward API spec.nodeName (else the Pod's) */
	const char *pod_ip;	      /* downward API status.podIP */
	const char *host_ip;	      /* downward API status.hostIP */
	int64_t node_cpu_milli;	      /* allocatable, for resourceFieldRef of unset limits */
	int64_t node_memory;
};

/* A Pod made ready for the runtime: its config and its volumes. */
struct agent_pod {
	struct rt_pod_config *cfg;
	struct vol_volume *volumes;
	size_t n_volumes;
};

/* Translate a Pod (a jansson object as api_yaml_load gives it) into runtime
 * configs, with Kubernetes' defaults (restartPolicy Always,
 * terminationGracePeriodSeconds 30, namespace "default", requests = limits
 * when only limits are set, dnsPolicy ClusterFirst, ...). Images are
 * resolved through the image store, and their config (entrypoint, cmd, env,
 * workingDir) fills what the Pod does not say. Errors name the field and
 * the reason: "spec.containers[0].image: required". No side effects. */
int agent_pod_from_json(json_t *pod, const struct agent_pod_options *opt, struct agent_pod *out,
			sk_err *err);
/* Prepare the volumes on the host (emptyDir directories and tmpfs,
 * hostPath checks and creation). Call after agent_pod_from_json, before
 * rt_pod_create. */
int agent_pod_prepare_volumes(struct agent_pod *p, sk_err *err);
void agent_pod_clear(struct agent_pod *p);

/* ---- end of pod specs ---------------------------------------------------- */

/* ---- the node agent (agent/agent.c) ---------------------------------------
 * `skiff agent` and the agent embedded in `skiff server`: registers its
 * Node, heartbeats through a Lease, makes the pods bound to it real
 * (runtime/, netns/, volumes/), writes their status and Events, probes
 * them, programs Services and DNS, and serves logs and exec over HTTPS.
 * Pods keep running when the agent stops; a new agent adopts them. */
struct agent_config {
	const char *server;    /* API server URL */
	const char *token;     /* bearer token */
	const char *ca_file;   /* the server's CA (PEM file), or */
	const char *ca_pem;    /* its text; neither: fetched with a K10 join token */
	bool insecure;	       /* do not verify the server (tests only) */
	const char *node_name; /* default: the host name, lower case */
	const char *node_ip;   /* InternalIP; default: the address that reaches the server */
	const char *data_dir;  /* the agent's own files (TLS key); default AGENT_DEFAULT_DATA_DIR */
	const char *image_dir; /* RT_IMAGE_DIR_DEFAULT */
	const char *state_dir; /* RT_DEFAULT_STATE_DIR */
	const char *log_dir;   /* RT_DEFAULT_LOG_DIR */
	const char *pod_data_dir;   /* emptyDirs: RT_DEFAULT_DATA_DIR */
	const char *cgroup_root;    /* RT_DEFAULT_CGROUP_ROOT */
	const char *pod_cidr;	    /* fixed pod CIDR; NULL: the one the server assigns */
	const char *cluster_cidr;   /* default 10.88.0.0/16 */
	const char *service_cidr;   /* default 10.96.0.0/16 (the server's) */
	const char *bridge;	    /* default skiff0 */
	const char *nft_table;	    /* default skiff */
	const char *cluster_domain; /* default cluster.local */
	const char *listen;	    /* the HTTPS endpoint, "ADDR:PORT"; default 0.0.0.0:10250 */
	int dns_port;		    /* cluster DNS on the bridge address; default 53, -1: none */
	int max_pods;		    /* default 110 */
	const char *exe;	    /* the skiff binary for helpers; default /proc/self/exe */
	const char **labels;	    /* extra node labels "k=v", NULL-terminated */
	bool handle_signals;	    /* agent_run stops on SIGINT/SIGTERM */
};
#define AGENT_DEFAULT_DATA_DIR "/var/lib/skiff/agent"
#define AGENT_DEFAULT_PORT 10250

typedef struct agent agent;
/* Check the configuration, fetch the CA when needed; nothing runs yet. */
int agent_new(const struct agent_config *cfg, agent **out, sk_err *err);
/* Run until agent_stop (or a signal when handle_signals). Pods stay. */
int agent_run(agent *a, sk_err *err);
/* From any thread. */
void agent_stop(agent *a);
void agent_free(agent *a);

/* ---- WebSocket framing (agent/websocket.c) --------------------------------
 * For the exec endpoint and `skiff exec` (Kubernetes' v5/v4.channel.k8s.io:
 * binary messages whose first byte is the channel). */
enum {
	AGENT_WS_CONT = 0,
	AGENT_WS_TEXT = 1,
	AGENT_WS_BINARY = 2,
	AGENT_WS_CLOSE = 8,
	AGENT_WS_PING = 9,
	AGENT_WS_PONG = 10
};
struct agent_ws_frame {
	bool fin, masked;
	int opcode;
	unsigned char *payload; /* points into the parsed buffer, unmasked */
	size_t len;
};
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
void agent_ws_accept_key(const char *key, char out[29]);
/* A random Sec-WebSocket-Key. */
void agent_ws_new_key(char out[25]);
/* Append one whole frame (masked with a random key when mask: clients). */
void agent_ws_frame(sk_buf *out, int opcode, const void *payload, size_t len, bool mask);
/* Parse one frame at buf (unmasking it in place): its length in bytes,
 * 0 when more bytes are needed, -1 (err) on a protocol error or a payload
 * over max_payload. */
int agent_ws_parse(const void *buf, size_t len, size_t max_payload, struct agent_ws_frame *f,
		   sk_err *err);

#endif
