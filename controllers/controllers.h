/* controllers: loops that move objects toward what their owners ask for,
 * through the same verbs users have: the garbage collector (cascading
 * deletion by ownerReferences) and namespace deletion now; ReplicaSet,
 * Deployment, Endpoints and the rest later.
 *
 * Controllers talk to the API through a ctl_client: the server provides
 * one that calls its registry in-process (no HTTP, no JSON encoding of
 * requests), and a remote one over HTTP can implement the same table.
 * Each controller runs in a thread of its own and consumes one watch.
 * Prefix: ctl_. */
#ifndef SKIFF_CONTROLLERS_H
#define SKIFF_CONTROLLERS_H

#include <jansson.h>

#include "../api/api.h"
#include "../common/common.h"

enum ctl_event_type {
	CTL_ADDED,
	CTL_MODIFIED,
	CTL_DELETED,
	CTL_SYNCED, /* the initial ADDED events are over; obj NULL */
};

/* A change seen by a controller. The identity and a few metadata facts
 * are always there; the objects are parsed only when asked for
 * (ctl_event_obj/ctl_event_old), so a controller that only needs to know
 * that something happened does not pay for JSON decoding. */
typedef struct ctl_event {
	enum ctl_event_type type;
	const api_kind *kind;
	const char *ns; /* "" when cluster-scoped; borrowed until clear */
	const char *name;
	const char *uid;
	bool owned;	 /* has ownerReferences */
	bool finalizers; /* has metadata.finalizers */
	bool deleting;	 /* has a deletionTimestamp */
	bool old_owned;	 /* the same facts of the previous state */
	/* metadata.labels and the fields field selectors read
	 * (api_field_set: metadata.name/namespace, and e.g. a pod's
	 * spec.nodeName and status.phase), when the client has them without
	 * parsing the object; borrowed, read-only, valid until clear; NULL
	 * when unknown (or, for labels, when there are none). */
	json_t *labels;
	json_t *fields;
	int64_t rev;
	/* for the client that made the event */
	json_t *obj_, *old_;
	void *src_, *src_old_;
	json_t *(*parse_)(void *src);
	void (*release_)(void *src);
} ctl_event;
/* The new state (for DELETED the last one), parsed on first use;
 * borrowed, valid until ctl_event_clear. NULL for CTL_SYNCED. */
json_t *ctl_event_obj(ctl_event *ev);
/* The previous state when known, else NULL; borrowed. */
json_t *ctl_event_old(ctl_event *ev);
void ctl_event_clear(ctl_event *ev);

typedef struct ctl_delete_opts {
	const char
		*propagation; /* "Background", "Foreground", "Orphan"; NULL: the kind's default */
	int64_t grace;	      /* seconds; -1: the object's own */
	const char *uid;      /* precondition; NULL: none */
} ctl_delete_opts;

typedef struct ctl_watch ctl_watch;
typedef struct ctl_client ctl_client;

/* Every call: < 0 on failure with err->code the HTTP status of the API
 * error (404 NotFound, 409 Conflict, 422 Invalid, ...) or, for a
 * transport failure, an errno value below 100; err->msg the Status
 * message. Objects returned are new references. */
struct ctl_client {
	void *impl;
	int (*get)(ctl_client *c, const api_kind *k, const char *ns, const char *name, json_t **out,
		   sk_err *err);
	/* All objects of k in ns (NULL: every namespace) matching the label
	 * selector (NULL: all): a new array; *rev the list's revision. */
	int (*list)(ctl_client *c, const api_kind *k, const char *ns, const char *label_selector,
		    json_t **items, int64_t *rev, sk_err *err);
	int (*create)(ctl_client *c, const api_kind *k, const char *ns, json_t *obj, json_t **out,
		      sk_err *err);
	/* PUT of obj (its metadata names it); subresource NULL, "status" or
	 * "finalize"; metadata.resourceVersion in obj is a precondition. */
	int (*update)(ctl_client *c, const api_kind *k, json_t *obj, const char *subresource,
		      json_t **out, sk_err *err);
	/* patch_type: "merge", "json" or "strategic". */
	int (*patch)(ctl_client *c, const api_kind *k, const char *ns, const char *name,
		     const char *subresource, const char *patch_type, json_t *patch, json_t **out,
		     sk_err *err);
	int (*delete)(ctl_client *c, const api_kind *k, const char *ns, const char *name,
		      const ctl_delete_opts *o, sk_err *err);
	/* Watch k (NULL: every kind): ADDED for every current object, one
	 * CTL_SYNCED, then every change in order. */
	int (*watch)(ctl_client *c, const api_kind *k, ctl_watch **out, sk_err *err);
	/* The next event: 1, 0 after timeout_ms (-1: wait forever), -1 when
	 * the watch ended (the controller should watch again). */
	int (*next)(ctl_client *c, ctl_watch *w, ctl_event *ev, int timeout_ms);
	/* End a watch from any thread: a consumer blocked in next() returns
	 * -1. */
	void (*watch_stop)(ctl_client *c, ctl_watch *w);
	void (*watch_close)(ctl_client *c, ctl_watch *w);
	/* POST obj to a subresource of an object: pods/NAME/binding (a
	 * Binding; what the scheduler sends). */
	int (*create_sub)(ctl_client *c, const api_kind *k, const char *ns, const char *name,
			  const char *subresource, json_t *obj, json_t **out, sk_err *err);
};

/* ---- garbage collector (gc.c) ----------------------------------------------
 * Cascading deletion by metadata.ownerReferences, as Kubernetes' GC:
 * - Background: once an owner is gone, dependents with no other live
 *   owner are deleted (Background), others lose the reference;
 * - Foreground: an owner being deleted with the foregroundDeletion
 *   finalizer has its dependents deleted (Foreground too); the finalizer
 *   is removed when none with blockOwnerDeletion remains;
 * - Orphan: an owner being deleted with the orphan finalizer has the
 *   references to it removed from its dependents, then the finalizer. */
typedef struct ctl_gc ctl_gc;
int ctl_gc_start(ctl_client *c, ctl_gc **out, sk_err *err);
void ctl_gc_stop(ctl_gc *gc);
/* Objects the collector tracks (for tests and metrics). */
size_t ctl_gc_tracked(ctl_gc *gc);

/* ---- namespace deletion (namespace.c) --------------------------------------
 * A Namespace being deleted (Terminating, spec.finalizers [kubernetes])
 * is emptied: every namespaced object in it is deleted; once none is left
 * the `kubernetes` finalizer is removed through namespaces/NAME/finalize
 * and the server deletes the Namespace. */
typedef struct ctl_namespace ctl_namespace;
int ctl_namespace_start(ctl_client *c, ctl_namespace **out, sk_err *err);
void ctl_namespace_stop(ctl_namespace *nc);

/* ---- events (events.c) -----------------------------------------------------------
 * core/v1 Events about objects, as client-go's recorder writes them
 * (source.component and reportingComponent the component; name
 * "<object>.<hex nanoseconds>"; the object's namespace, or "default" for
 * cluster-scoped ones). A repeat of the same event (object, type, reason,
 * message) updates count and lastTimestamp of the first instead of making
 * another, as client-go's correlator does; as its spam filter, at most
 * 25 events about one object, then one per 5 minutes. Best effort:
 * failures are logged, never returned. One recorder per thread. */
typedef struct ctl_recorder ctl_recorder;
ctl_recorder *ctl_recorder_new(ctl_client *c, const char *component);
void ctl_recorder_free(ctl_recorder *r);
/* type "Normal" or "Warning"; obj the involved object (its kind,
 * apiVersion, name, namespace, uid, resourceVersion are referenced). */
void ctl_eventf(ctl_recorder *r, json_t *obj, const char *type, const char *reason, const char *fmt,
		...) __attribute__((format(printf, 5, 6)));

/* ---- Endpoints (endpoints.c) -------------------------------------------------------
 * Keeps the Endpoints of every Service with a selector equal to the pods
 * it selects, as Kubernetes' endpoints controller: ready pods in
 * addresses, the others in notReadyAddresses (all in addresses with
 * publishNotReadyAddresses), terminating and finished pods and pods
 * without an IP left out; ports resolved per pod from numbered and named
 * targetPorts, so pods that number a named port differently land in
 * different subsets. Services without a selector are left alone; the
 * Endpoints of a deleted Service go with it. Writes only what changed. */
typedef struct ctl_endpoints ctl_endpoints;
int ctl_endpoints_start(ctl_client *c, ctl_endpoints **out, sk_err *err);
void ctl_endpoints_stop(ctl_endpoints *ec);

/* ---- node lifecycle (node_lifecycle.c) ---------------------------------------------
 * Watches Nodes and their Leases in kube-node-lease. A node whose agent
 * has neither renewed its Lease nor posted its Ready condition for the
 * grace period gets Ready (and the pressure conditions) Unknown, reason
 * NodeStatusUnknown, "Kubelet stopped posting node status."; its pods
 * are marked not Ready (they leave Endpoints). Taints follow the
 * conditions as Kubernetes' TaintNodesByCondition and taint-based
 * eviction do: node.kubernetes.io/not-ready or unreachable (NoSchedule
 * and NoExecute), memory-pressure, disk-pressure, pid-pressure,
 * network-unavailable, unschedulable (NoSchedule). Pods on a node with a
 * NoExecute taint they do not tolerate are deleted, at once or after
 * their tolerationSeconds. */
typedef struct ctl_node_lifecycle_config {
	int grace_s; /* --node-monitor-grace-period; 0: 40 */
} ctl_node_lifecycle_config;
typedef struct ctl_node_lifecycle ctl_node_lifecycle;
int ctl_node_lifecycle_start(ctl_client *c, const ctl_node_lifecycle_config *cfg,
			     ctl_node_lifecycle **out, sk_err *err);
void ctl_node_lifecycle_stop(ctl_node_lifecycle *nl);

/* ---- node IPAM (node_ipam.c) -------------------------------------------------------
 * Gives every Node without one a pod CIDR (spec.podCIDR and
 * spec.podCIDRs): the lowest free /mask_bits block of the cluster CIDR.
 * What is taken is learnt from the Nodes themselves (so nothing is
 * handed out twice, across restarts too); a deleted Node's block is free
 * again. */
#define CTL_DEFAULT_CLUSTER_CIDR "10.88.0.0/16"
#define CTL_DEFAULT_NODE_CIDR_BITS 24
typedef struct ctl_node_ipam ctl_node_ipam;
/* cluster_cidr NULL: the default; mask_bits 0: 24. err names a bad CIDR. */
int ctl_node_ipam_start(ctl_client *c, const char *cluster_cidr, int mask_bits, ctl_node_ipam **out,
			sk_err *err);
void ctl_node_ipam_stop(ctl_node_ipam *ni);

#endif
