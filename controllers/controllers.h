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

#endif
