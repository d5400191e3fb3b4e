/* scheduler: puts each unscheduled pod on a node, as kube-scheduler's
 * default profile does for what skiff's clusters have: automatic bin
 * packing.
 *
 * Two layers:
 * - pure functions over parsed pods and nodes (sched_pod, sched_node):
 *   the filters in Kubernetes' order (NodeUnschedulable, NodeName,
 *   TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit) with
 *   their messages, and the scores (NodeResourcesFit with the
 *   MostAllocated strategy, TaintToleration, NodeAffinity) that pick a
 *   node; unit-tested in tests/unit/test_sched_*.c;
 * - the in-process scheduler of `skiff server` (sched_start), which
 *   keeps those structures current from a watch and binds pods through
 *   pods/binding.
 * See docs/scheduler.md. Prefix: sched_. */
#ifndef SKIFF_SCHEDULER_H
#define SKIFF_SCHEDULER_H

#include <jansson.h>

#include "../common/common.h"
#include "../controllers/controllers.h"

/* The schedulerName this scheduler serves (the API's default). */
#define SCHED_NAME "default-scheduler"

/* What Kubernetes counts for a pod that requests nothing, when scoring
 * only (schedutil.DefaultMilliCPURequest, DefaultMemoryRequest): without
 * them, pods with no requests would all look free and pile up on one
 * node. */
#define SCHED_DEFAULT_CPU_MILLI 100
#define SCHED_DEFAULT_MEMORY (200LL * 1024 * 1024)

/* An extended resource ("example.com/gpu", "hugepages-2Mi"), whole units. */
typedef struct sched_scalar {
	char *name;
	int64_t value;
} sched_scalar;

/* Resources as the scheduler compares them. */
typedef struct sched_res {
	int64_t cpu;	   /* milli-CPU */
	int64_t memory;	   /* bytes */
	int64_t ephemeral; /* bytes of ephemeral-storage */
	int64_t pods;
	sched_scalar *scalars;
	size_t nscalars;
} sched_res;

/* A host port a pod asks for (containers[].ports[].hostPort). */
typedef struct sched_port {
	int port;
	char protocol[8]; /* TCP, UDP, SCTP */
	char ip[48];	  /* hostIP; "0.0.0.0" when unset (every address) */
} sched_port;

typedef struct sched_pod {
	char *ns, *name, *uid;
	char *node_name; /* spec.nodeName; NULL when unset */
	int64_t priority;
	bool terminal;	   /* phase Succeeded or Failed: holds nothing on its node */
	sched_res req;	   /* Kubernetes' PodRequests: containers summed, init
			* containers by the max rule, sidecars, overhead */
	sched_res nonzero; /* cpu and memory with the defaults above */
	sched_port *ports;
	size_t nports;
	/* borrowed from the parsed object, referenced (NULL when absent) */
	json_t *node_selector; /* spec.nodeSelector */
	json_t *affinity;      /* spec.affinity.nodeAffinity */
	json_t *tolerations;   /* spec.tolerations */
} sched_pod;

typedef struct sched_taint {
	char *key, *value, *effect;
} sched_taint;

typedef struct sched_node {
	char *name;
	json_t *labels; /* referenced; never NULL after parsing */
	sched_res allocatable;
	bool unschedulable; /* spec.unschedulable (cordoned) */
	/* spec.taints, plus node.kubernetes.io/not-ready (or unreachable)
	 * NoSchedule when Ready is not True and no such taint is there yet:
	 * the node lifecycle controller adds it, but a node must not take
	 * pods in the moment before it does. */
	sched_taint *taints;
	size_t ntaints;
	/* what the pods on it hold (sched_node_add_pod) */
	sched_res requested;
	sched_res nonzero_requested;
	size_t npods;
	sched_port *ports;
	size_t nports;
} sched_node;

/* Parse a Pod. Quantities that do not parse fail with the field's path
 * ("spec.containers[0].resources.requests.cpu: ..."). */
int sched_pod_parse(json_t *pod, sched_pod *out, sk_err *err);
void sched_pod_clear(sched_pod *p);
/* Parse a Node (status.allocatable, labels, taints, Ready, cordon);
 * nothing is held for pods yet. */
int sched_node_parse(json_t *node, sched_node *out, sk_err *err);
void sched_node_clear(sched_node *n);
/* Account for a pod placed on n (its requests, host ports, one pod), or
 * undo that. The caller keeps the pod's sched_pod until it removes it. */
void sched_node_add_pod(sched_node *n, const sched_pod *p);
void sched_node_remove_pod(sched_node *n, const sched_pod *p);
/* Carry what old holds for its pods over to a freshly parsed n of the
 * same node (a Node update changes labels, taints, allocatable, never
 * the pods on it). */
void sched_node_take_pods(sched_node *n, sched_node *old);

/* Why a pod does not fit a node: the messages of the first filter that
 * rejects it, as kube-scheduler words them ("Insufficient cpu",
 * "node(s) didn't match Pod's node affinity/selector", "node(s) had
 * untolerated taint {key: value}", ...). NodeResourcesFit may give
 * several at once. */
#define SCHED_MAX_REASONS 8
typedef struct sched_reasons {
	size_t n;
	char r[SCHED_MAX_REASONS][320];
} sched_reasons;

/* Does p fit n? false with the reasons when not (why may be NULL). */
bool sched_filter(const sched_pod *p, const sched_node *n, sched_reasons *why);

/* The scores before normalization over the feasible nodes. */
/* NodeResourcesFit, MostAllocated over cpu and memory (weights 1):
 * 0..100, higher for nodes that are fuller once p is on them. */
int64_t sched_score_most_allocated(const sched_pod *p, const sched_node *n);
/* TaintToleration: PreferNoSchedule taints of n that p does not tolerate. */
int64_t sched_score_intolerable_taints(const sched_pod *p, const sched_node *n);
/* NodeAffinity: the summed weights of p's preferred terms n matches. */
int64_t sched_score_preferred_affinity(const sched_pod *p, const sched_node *n);

/* Pick the node for p among nodes[0..n): filters, then the weighted
 * scores (NodeResourcesFit x1, TaintToleration x3, NodeAffinity x2, as
 * the default profile weighs them, each normalized to 0..100); ties go
 * to the node whose name sorts first, so the choice is deterministic.
 * Returns the index, or -1 with *message (new) saying why for each node,
 * as kube-scheduler's FitError: "0/2 nodes are available: 1 Insufficient
 * cpu, 1 node(s) didn't match Pod's node affinity/selector." ("no nodes
 * available to schedule pods" when there are none). */
ssize_t sched_pick(const sched_pod *p, sched_node *const *nodes, size_t n, char **message);

/* ---- the in-process scheduler (scheduler.c) -------------------------------------
 * One thread consuming a watch of every kind (it keeps Pods and Nodes).
 * Pending pods (no spec.nodeName, schedulerName default-scheduler, no
 * scheduling gates, not being deleted) go in priority order, then first
 * come first served; each is bound to the node sched_pick chooses, and
 * counted on that node at once (before the watch shows the binding), as
 * kube-scheduler's assume cache does. A pod that fits nowhere gets
 * PodScheduled=False, reason Unschedulable, with the FitError message
 * and a FailedScheduling event; it is tried again when a node appears or
 * changes what matters to scheduling, when a pod leaves a node, when the
 * pod itself changes, and every SCHED_RETRY_S seconds. */
#define SCHED_RETRY_S 300 /* kube-scheduler's podMaxInUnschedulablePodsDuration */
typedef struct sched_scheduler sched_scheduler;
int sched_start(ctl_client *c, sched_scheduler **out, sk_err *err);
void sched_stop(sched_scheduler *s);
/* Pods bound since start (for tests and metrics). */
uint64_t sched_bound_count(sched_scheduler *s);

#endif
