/* server: skiff's Kubernetes API server: HTTPS with bearer tokens,
 * Kubernetes REST paths and discovery, watch fan-out, admission, and the
 * revisioned store (server/store.h) with its in-memory watch cache; it
 * runs the in-process controllers (controllers/). Prefix: srv_. */
#ifndef SKIFF_SERVER_H
#define SKIFF_SERVER_H

#include "../common/common.h"

/* Agreed defaults (shared with the CLI and the agent). */
#define SRV_DEFAULT_DATA_DIR "/var/lib/skiff/server"
#define SRV_DEFAULT_LISTEN "127.0.0.1:6443"
#define SRV_DEFAULT_SERVICE_CIDR "10.96.0.0/16"
#define SRV_DEFAULT_NODE_PORTS "30000-32767"
/* The admin kubeconfig inside the data dir. */
#define SRV_ADMIN_KUBECONFIG "admin.kubeconfig"
/* The node join token inside the data dir ("K10<sha256 of the CA
 * PEM>::node:<secret>", as k3s; the whole string is the bearer token). */
#define SRV_NODE_TOKEN "node-token"

typedef struct srv_config {
	const char *data_dir;	      /* SRV_DEFAULT_DATA_DIR when NULL */
	const char *listen;	      /* "ADDR:PORT"; port 0 picks a free one */
	const char *write_kubeconfig; /* also write the admin kubeconfig here */
	const char *service_cidr;     /* SRV_DEFAULT_SERVICE_CIDR when NULL */
	const char *node_ports;	      /* "LO-HI"; SRV_DEFAULT_NODE_PORTS when NULL */
	bool disable_agent;	      /* no agent for this machine (the agent comes later) */
	bool insecure_http;	      /* plain HTTP without authentication (debugging only) */
	int threads;		      /* HTTP worker threads; 0: 4 */
	bool sync_normal;	      /* no fsync per commit (see docs/server.md) */
	int compact_interval_s;	      /* 0: 300 (Kubernetes' default) */
	int bookmark_interval_s;      /* 0: 60 */
	const char *cluster_cidr;     /* pod CIDRs for nodes; CTL_DEFAULT_CLUSTER_CIDR when NULL */
	int node_monitor_grace_s;     /* a node is NotReady after this without a heartbeat; 0: 40 */
	bool disable_scheduler;	      /* no in-process scheduler (another one binds pods) */
	/* Called once the server serves, from srv_run's thread, e.g. to start
	 * the embedded agent (the command layer passes it; server/ does not
	 * know agent/). url is "https://HOST:PORT"; token is the node join
	 * token (see docs/server.md). < 0 stops the server with err. */
	int (*on_ready)(void *data, const char *url, const char *ca_pem, const char *token,
			sk_err *err);
	/* Called when the server is about to stop, before it stops serving. */
	void (*on_stop)(void *data);
	void *hook_data;
} srv_config;

/* Run the server until SIGINT or SIGTERM. Prints one line on stderr
 * when it is ready ("skiff server: listening on https://..."). */
int srv_run(const srv_config *cfg, sk_err *err);

#endif
