/* Internal header of server/: the server object, HTTP requests and the
 * registry (Kubernetes semantics of each verb), shared by its files. */
#ifndef SKIFF_SERVER_INTERNAL_H
#define SKIFF_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../api/api.h"
#include "../controllers/controllers.h"
#include "cache.h"
#include "server.h"
#include "store.h"

/* ---- node_proxy.c: pods/log and pods/exec through the pod's node agent */
typedef struct srv_req srv_req;
struct api_kind;
void srv_pod_log(srv_req *r, const api_kind *k, const char *ns, const char *name);
void srv_pod_exec(srv_req *r, const api_kind *k, const char *ns, const char *name);

/* ---- allocators (alloc.c): Service ClusterIPs and NodePorts ------------ */
typedef struct srv_ipalloc srv_ipalloc;
/* cidr "10.96.0.0/16"; prefixes /12 to /28. */
int srv_ipalloc_new(const char *cidr, srv_ipalloc **out, sk_err *err);
void srv_ipalloc_free(srv_ipalloc *a);
/* The n-th address of the range (1: the `kubernetes` Service's). */
void srv_ipalloc_nth(srv_ipalloc *a, uint32_t n, char *buf, size_t len);
/* Allocate a free address (random, as Kubernetes) or a requested one.
 * err->code: ENOSPC (range full), EEXIST (taken), ERANGE (outside). */
int srv_ipalloc_take(srv_ipalloc *a, const char *want, char *buf, size_t len, sk_err *err);
void srv_ipalloc_release(srv_ipalloc *a, const char *ip);
bool srv_ipalloc_contains(srv_ipalloc *a, const char *ip);

typedef struct srv_portalloc srv_portalloc;
int srv_portalloc_new(int lo, int hi, srv_portalloc **out);
void srv_portalloc_free(srv_portalloc *a);
/* want 0: any free port. err->code as for addresses. */
int srv_portalloc_take(srv_portalloc *a, int want, int *port, sk_err *err);
void srv_portalloc_release(srv_portalloc *a, int port);

/* ---- the server ------------------------------------------------------------ */
typedef struct srv_server {
	srv_config cfg;
	char *data_dir;
	srv_store *store;
	srv_cache *cache;
	struct MHD_Daemon **mhds; /* one per HTTP worker thread */
	size_t nmhds;
	pthread_t accept_thread;
	bool accept_started;
	int listen_fd;
	char host[64]; /* the address clients use ("127.0.0.1") */
	int port;
	char *token;	  /* admin */
	char *node_token; /* node join token (K10 format) */
	char *ca_pem, *cert_pem, *key_pem;
	srv_ipalloc *ips;
	srv_portalloc *ports;
	pthread_mutex_t alloc_lock;
	char *svc_cidr;
	pthread_t tick_thread;
	bool tick_started;
	bool hook_started; /* cfg.on_ready succeeded */
	atomic_bool stopping;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int64_t last_compact_ns;
	int64_t compact_target; /* revision to compact to at the next run */
	ctl_client client;	/* the in-process client for controllers */
	ctl_gc *gc;
	ctl_namespace *nsctl;
	/* the scheduler and the node/Service controllers (H8) */
	struct sched_scheduler *sched;
	ctl_endpoints *endpoints;
	ctl_node_lifecycle *nodelc;
	ctl_node_ipam *nodeipam;
	atomic_ullong requests;
	atomic_int inflight; /* requests inside the REST layer */
	atomic_int writers;  /* write requests that have not reached the store yet */
} srv_server;

/* ---- results of the registry ---------------------------------------------- */
typedef struct srv_result {
	int code;     /* HTTP status */
	json_t *body; /* the object, or a Status; owned */
	char *text;   /* body as stored JSON text when known (saves encoding it
		       * again for the response); owned */
	size_t len;
} srv_result;
void srv_result_clear(srv_result *r);
/* Fill res with a Status (stolen); returns -1 (or 0 for a success). */
int srv_fail(srv_result *res, json_t *status);

typedef struct srv_write_opts {
	bool dry_run;
	const char *subresource; /* NULL, "status", "finalize" */
} srv_write_opts;

typedef struct srv_delete_opts {
	int64_t grace;		 /* seconds; -1 when not given */
	const char *propagation; /* "Orphan", "Background", "Foreground"; NULL */
	const char *uid;	 /* preconditions, NULL when none */
	const char *rv;
	bool dry_run;
	bool accepted; /* orphanDependents=false: a pending deletion answers 202 */
} srv_delete_opts;

/* Parse DeleteOptions from a JSON body (may be NULL) into o; 400 on bad
 * input. The strings point into body. */
int srv_delete_opts_parse(json_t *body, srv_delete_opts *o, srv_result *res);

/* The verbs, with Kubernetes semantics (registry.c). Each returns 0 with
 * res->body the object (and res->code 200/201/202), or -1 with a Status. */
int srv_get(srv_server *s, const api_kind *k, const char *ns, const char *name, srv_result *res);
int srv_create(srv_server *s, const api_kind *k, const char *ns, json_t *obj,
	       const srv_write_opts *o, srv_result *res);
int srv_update(srv_server *s, const api_kind *k, const char *ns, const char *name, json_t *obj,
	       const srv_write_opts *o, srv_result *res);
enum srv_patch_type { SRV_PATCH_MERGE, SRV_PATCH_JSON, SRV_PATCH_STRATEGIC };
int srv_patch(srv_server *s, const api_kind *k, const char *ns, const char *name,
	      enum srv_patch_type type, json_t *patch, const srv_write_opts *o, srv_result *res);
int srv_delete(srv_server *s, const api_kind *k, const char *ns, const char *name,
	       const srv_delete_opts *o, srv_result *res);

/* Read-modify-write with retries on conflicts, the core of update, patch
 * and the subresources: mutate gets a copy of the current object and
 * changes it (or replaces *obj); failing, it fills *status. An explicit
 * metadata.resourceVersion left in the result is a precondition (409 when
 * stale). */
typedef int (*srv_mutate_fn)(json_t **obj, void *ctx, json_t **status);
int srv_update_with(srv_server *s, const api_kind *k, const char *ns, const char *name,
		    srv_mutate_fn mutate, void *ctx, const srv_write_opts *o, srv_result *res);

/* Admission (admission.c): what the apiserver's admission plugins and
 * registries add to the generic flow. */
int srv_admit_namespace(srv_server *s, const api_kind *k, const char *ns, const char *name,
			srv_result *res);
int srv_admit_create(srv_server *s, const api_kind *k, json_t *obj, srv_result *res);
int srv_admit_update(srv_server *s, const api_kind *k, json_t *obj, json_t *old, srv_result *res);
/* Undo what admission reserved for an object that was not stored. */
void srv_admit_abort(srv_server *s, const api_kind *k, json_t *obj, json_t *old);
/* Release what a deleted object held (its ClusterIP, NodePorts). */
void srv_release(srv_server *s, const api_kind *k, json_t *obj);
/* After a stored update: release what old held and obj no longer does. */
void srv_release_replaced(srv_server *s, const api_kind *k, json_t *obj, json_t *old);
/* Rebuild the allocators from the stored Services. */
int srv_alloc_rebuild(srv_server *s, sk_err *err);

/* Subresources (subresources.c): binding, scale. */
int srv_bind(srv_server *s, const char *ns, const char *name, json_t *binding,
	     const srv_write_opts *o, srv_result *res);
int srv_scale_get(srv_server *s, const api_kind *k, const char *ns, const char *name,
		  srv_result *res);
int srv_scale_update(srv_server *s, const api_kind *k, const char *ns, const char *name,
		     json_t *scale, const srv_write_opts *o, srv_result *res);
int srv_scale_patch(srv_server *s, const api_kind *k, const char *ns, const char *name,
		    enum srv_patch_type type, json_t *patch, const srv_write_opts *o,
		    srv_result *res);

/* Lists (registry.c) */
typedef struct srv_list_opts {
	const char *ns;
	api_selector *labels; /* borrowed */
	api_selector *fields; /* borrowed */
	const char *name;     /* from a metadata.name= field selector */
	size_t limit;
	const char *cont;     /* continue token */
	const char *rv;	      /* resourceVersion parameter */
	const char *rv_match; /* resourceVersionMatch */
} srv_list_opts;
typedef struct srv_list {
	srv_obj **items;
	size_t n;
	int64_t rev;
	char *cont; /* continue token for the next page, or NULL */
	int64_t remaining;
} srv_list;
void srv_list_clear(srv_list *l);
int srv_list_objects(srv_server *s, const api_kind *k, const srv_list_opts *o, srv_list *out,
		     srv_result *res);
/* Does o pass the label and field selectors (and name)? */
bool srv_obj_selected(const srv_obj *o, api_selector *labels, api_selector *fields,
		      const char *name);

/* ---- HTTP (http.c) ------------------------------------------------------------ */
typedef struct srv_query {
	char *key, *value;
} srv_query;

typedef struct srv_req srv_req;
typedef void (*srv_stream_free_fn)(srv_req *r);
/* Fills r->out with the next bytes of a stream: 1 when some were added,
 * 0 when none are ready (the connection is suspended until woken), -1 at
 * the end. */
typedef int (*srv_stream_fill_fn)(srv_req *r);

struct srv_req {
	srv_server *srv;
	struct MHD_Connection *conn;
	char *method;
	char *raw_uri;
	char **segs; /* decoded path segments */
	size_t nsegs;
	srv_query *query;
	size_t nquery;
	sk_buf body;
	bool too_large;
	bool started;
	bool responded;
	int code;
	int64_t start_ns;
	/* streams (watch) */
	srv_watch *watch;
	const api_kind *kind;
	enum api_table_include table;
	bool as_table;
	bool table_header_sent;
	sk_buf out;
	size_t out_off;
	srv_stream_fill_fn fill;
	pthread_mutex_t stream_lock;
	bool stream_lock_init;
	bool suspended;
	/* a stream's own state (node_proxy.c), released before the request */
	void *stream_data;
	srv_stream_free_fn stream_free;
};

/* The value of a query parameter (decoded), or NULL. */
const char *srv_req_query(srv_req *r, const char *key);
const char *srv_req_header(srv_req *r, const char *name);
void srv_reply(srv_req *r, int code, const char *ctype, char *body, size_t len);
void srv_reply_json(srv_req *r, int code, json_t *obj); /* steals obj */
void srv_reply_status(srv_req *r, json_t *status);	/* steals */
void srv_reply_result(srv_req *r, srv_result *res);
/* Start a chunked stream fed by r->fill; the watch wakes it. */
void srv_reply_stream(srv_req *r, const char *ctype);
/* Queue a response made by the caller (an upgrade, for exec). */
void srv_reply_response(srv_req *r, int code, struct MHD_Response *resp);
/* The wake callback for a srv_watch serving r. */
void srv_req_wake(void *r);

/* Bind the listen address (s->host, s->port are known after it). */
int srv_http_listen(srv_server *s, sk_err *err);
int srv_http_start(srv_server *s, sk_err *err);
/* Stop accepting connections. */
void srv_http_stop(srv_server *s);
/* Stop the HTTP threads; no watch may be open. */
void srv_http_free(srv_server *s);

/* The group-commit hint: a write request counts from its start until its
 * first store write (or its end). */
void srv_writer_begin(srv_server *s);
void srv_writer_reached_store(srv_server *s);
void srv_writer_end(srv_server *s);

/* ---- REST (rest.c, discovery.c, watch.c) -------------------------------- */
void srv_rest_handle(srv_req *r);
bool srv_discovery_handle(srv_req *r);
void srv_watch_serve(srv_req *r, const api_kind *k, const char *ns, api_selector *labels,
		     api_selector *fields, const char *name);
/* The stored resourceVersion and object kinds come back as Kubernetes
 * reports them. */
#define SRV_VERSION_MAJOR "1"
#define SRV_VERSION_MINOR "33"
#define SRV_VERSION_GIT "v1.33.0+skiff"

/* ---- request bodies (body.c) ------------------------------------------------- */
/* Decode a request body by its Content-Type (JSON when missing; YAML;
 * Kubernetes protobuf for the kinds kubectl's generators send) into a
 * JSON object. 400/415 Status on failure. */
int srv_decode_body(srv_req *r, json_t **obj, srv_result *res);
/* Kubernetes' protobuf envelope ("k8s\0" + runtime.Unknown) to JSON for
 * the kinds it knows (protobuf.c). err->code ENOTSUP for other kinds. */
int srv_protobuf_decode(const unsigned char *data, size_t len, json_t **obj, sk_err *err);

/* ---- TLS, credentials, kubeconfig (tls.c) ------------------------------------ */
/* Free what GnuTLS allocated (datum contents). gnutls_free is a data
 * symbol, which the lazy linking of GnuTLS cannot resolve; GnuTLS
 * allocates with the C library's malloc (custom allocators are gone since
 * 3.3), so free() is what gnutls_free calls. */
static inline void srv_gnutls_free(void *p)
{
	free(p);
}

int srv_tls_setup(srv_server *s, sk_err *err);
int srv_token_setup(srv_server *s, sk_err *err);
/* The node join token: after srv_tls_setup (it names the CA's hash). */
int srv_node_token_setup(srv_server *s, sk_err *err);
int srv_write_kubeconfig(srv_server *s, const char *path, sk_err *err);
/* 32 bytes for Secrets at rest, created at first start. */
int srv_secrets_key(srv_server *s, unsigned char key[32], sk_err *err);

/* ---- bootstrap (bootstrap.c) ------------------------------------------------- */
int srv_bootstrap(srv_server *s, sk_err *err);

/* ---- the in-process client for controllers (local_client.c) --------------- */
void srv_local_client_init(srv_server *s, ctl_client *c);

#endif
