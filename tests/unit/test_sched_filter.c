/* Unit tests for scheduler/: pod requests (init containers, sidecars,
 * overhead, limits), each filter with Kubernetes' message, the scores,
 * and sched_pick (bin packing, ties, FitError messages). */
#include "../../api/api.h"
#include "../../scheduler/scheduler.h"
#include "tap.h"

static json_t *yaml(const char *text)
{
	json_t *docs = NULL, *obj;
	sk_err err = {0};

	if (api_yaml_load(text, strlen(text), "test", &docs, &err) < 0) {
		printf("# yaml: %s\n", err.msg);
		abort();
	}
	obj = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return obj;
}

static void pod_from(const char *text, sched_pod *p)
{
	json_t *o = yaml(text);
	sk_err err = {0};

	if (sched_pod_parse(o, p, &err) < 0) {
		printf("# pod: %s\n", err.msg);
		abort();
	}
	json_decref(o);
}

/* A Ready node with allocatable cpu, memory, pods and extra YAML under
 * its spec (taints, unschedulable) and labels. */
static void node_from(sched_node *n, const char *name, const char *cpu, const char *mem, int pods,
		      const char *labels, const char *spec)
{
	char buf[2048];
	sk_err err = {0};

	snprintf(buf, sizeof(buf),
		 "kind: Node\napiVersion: v1\nmetadata:\n  name: %s\n  labels: %s\n"
		 "spec: %s\nstatus:\n  allocatable: {cpu: \"%s\", memory: \"%s\", pods: \"%d\"}\n"
		 "  conditions: [{type: Ready, status: \"True\"}]\n",
		 name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem, pods);
	json_t *o = yaml(buf);
	if (sched_node_parse(o, n, &err) < 0) {
		printf("# node: %s\n", err.msg);
		abort();
	}
	json_decref(o);
}

/* A pod with one container requesting cpu and memory ("" = none). */
static void simple_pod(sched_pod *p, const char *name, const char *cpu, const char *mem,
		       const char *extra_spec)
{
	char buf[2048], req[256] = "";

	if (*cpu || *mem)
		snprintf(req, sizeof(req), "resources: {requests: {%s%s%s%s%s%s}}",
			 *cpu ? "cpu: " : "", cpu, *cpu && *mem ? ", " : "", *mem ? "memory: " : "",
			 mem, "");
	snprintf(buf, sizeof(buf),
		 "kind: Pod\napiVersion: v1\nmetadata: {name: %s, namespace: default, uid: u-%s}\n"
		 "spec:\n  containers:\n  - name: c\n    image: busybox\n    %s\n%s",
		 name, name, req, extra_spec ? extra_spec : "");
	pod_from(buf, p);
}

static void test_requests(void)
{
	sched_pod p;

	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		 "  - {name: a, resources: {requests: {cpu: 100m, memory: 64Mi}}}\n"
		 "  - {name: b, resources: {requests: {cpu: \"1\", memory: 1Gi}}}\n",
		 &p);
	is_int(p.req.cpu, 1100, "containers: cpu adds up");
	is_int(p.req.memory, 64LL * 1024 * 1024 + 1024LL * 1024 * 1024,
	       "containers: memory adds up");
	is_int(p.req.pods, 1, "a pod counts one pod");
	sched_pod_clear(&p);

	/* the init container alone needs more cpu; the containers more memory */
	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n"
		 "  initContainers:\n"
		 "  - {name: i1, resources: {requests: {cpu: \"2\", memory: 10Mi}}}\n"
		 "  - {name: i2, resources: {requests: {cpu: 500m}}}\n"
		 "  containers:\n"
		 "  - {name: a, resources: {requests: {cpu: 300m, memory: 100Mi}}}\n"
		 "  - {name: b, resources: {requests: {cpu: 200m, memory: 100Mi}}}\n",
		 &p);
	is_int(p.req.cpu, 2000, "init containers: the max rule (cpu from the init container)");
	is_int(p.req.memory, 200LL * 1024 * 1024,
	       "init containers: the max rule (memory from the containers)");
	sched_pod_clear(&p);

	/* sidecars run beside the later init containers and the containers */
	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n"
		 "  initContainers:\n"
		 "  - {name: side, restartPolicy: Always, resources: {requests: {cpu: 200m}}}\n"
		 "  - {name: init, resources: {requests: {cpu: \"1\"}}}\n"
		 "  containers:\n"
		 "  - {name: a, resources: {requests: {cpu: 100m}}}\n"
		 "  overhead: {cpu: 50m}\n",
		 &p);
	is_int(p.req.cpu, 1250,
	       "sidecar: init (1) + sidecar (0.2) beats containers + sidecar, "
	       "plus overhead");
	sched_pod_clear(&p);

	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		 "  - {name: a, resources: {limits: {cpu: 250m, memory: 1Gi}}}\n"
		 "  - {name: b}\n",
		 &p);
	is_int(p.req.cpu, 250, "limits stand in for absent requests");
	is_int(p.nonzero.cpu, 350, "non-zero: 100m for the container without cpu");
	is_int(p.nonzero.memory, 1024LL * 1024 * 1024 + SCHED_DEFAULT_MEMORY,
	       "non-zero: 200Mi for the container without memory");
	sched_pod_clear(&p);

	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		 "  - {name: a, resources: {requests: {example.com/gpu: 2, cpu: 0}}}\n",
		 &p);
	is_int(p.req.nscalars, 1, "an extended resource is kept");
	is_int(p.req.scalars[0].value, 2, "extended resource value");
	is_int(p.nonzero.cpu, 0, "an explicit 0 cpu stays 0 in the non-zero requests");
	sched_pod_clear(&p);

	json_t *bad = yaml("kind: Pod\nmetadata: {name: x, namespace: ns}\nspec:\n  containers:\n"
			   "  - {name: a, resources: {requests: {cpu: lots}}}\n");
	sk_err err = {0};
	ok(sched_pod_parse(bad, &p, &err) < 0, "a bad quantity is refused");
	like(err.msg, "pod ns/x: spec.containers[0].resources.requests.cpu",
	     "... naming the field");
	json_decref(bad);
}

static void expect_reason(const sched_pod *p, const sched_node *n, const char *want,
			  const char *name)
{
	sched_reasons why;
	bool fits = sched_filter(p, n, &why);

	if (!want) {
		if (!ok(fits, "%s: fits", name))
			printf("#   reason: %s\n", why.n ? why.r[0] : "?");
		return;
	}
	ok(!fits, "%s: does not fit", name);
	is_str(why.n ? why.r[0] : NULL, want, "%s: reason", name);
}

static void test_resources(void)
{
	sched_node n;
	sched_pod big, small, other;

	node_from(&n, "n1", "2", "4Gi", 3, NULL, NULL);
	simple_pod(&big, "big", "1500m", "1Gi", NULL);
	simple_pod(&small, "small", "600m", "3Gi", NULL);
	simple_pod(&other, "other", "", "", NULL);
	expect_reason(&big, &n, NULL, "1.5 cpu on an empty 2-cpu node");
	sched_node_add_pod(&n, &big);
	is_int(n.requested.cpu, 1500, "accounting: cpu held");
	is_int(n.npods, 1, "accounting: one pod");
	sched_reasons why;
	ok(!sched_filter(&small, &n, &why), "0.6 cpu + 3Gi after 1.5 cpu + 1Gi does not fit");
	is_int(why.n, 1, "only cpu is short (memory fits exactly)");
	is_str(why.r[0], "Insufficient cpu", "Insufficient cpu");
	sched_node_add_pod(&n, &other);
	sched_node_add_pod(&n, &other);
	sched_pod_clear(&small);
	simple_pod(&small, "small2", "600m", "4Gi", NULL);
	ok(!sched_filter(&small, &n, &why) && why.n == 3, "three shortfalls at once");
	is_str(why.r[0], "Too many pods", "Too many pods first");
	is_str(why.r[1], "Insufficient cpu", "then cpu");
	is_str(why.r[2], "Insufficient memory", "then memory");
	sched_node_remove_pod(&n, &other);
	sched_node_remove_pod(&n, &other);
	sched_node_remove_pod(&n, &big);
	is_int(n.requested.cpu, 0, "removing gives the cpu back");
	is_int(n.npods, 0, "removing gives the pod slot back");
	expect_reason(&small, &n, NULL, "fits again once the node is empty");
	sched_pod_clear(&big);
	sched_pod_clear(&small);
	sched_pod_clear(&other);
	sched_node_clear(&n);

	/* a pod that requests nothing passes on any node with a free slot */
	node_from(&n, "tiny", "0", "0", 1, NULL, NULL);
	simple_pod(&other, "none", "", "", NULL);
	expect_reason(&other, &n, NULL, "no requests: fits a node without cpu");
	sched_pod_clear(&other);
	pod_from("kind: Pod\nmetadata: {name: g}\nspec:\n  containers:\n"
		 "  - {name: a, resources: {requests: {example.com/gpu: 1}}}\n",
		 &other);
	expect_reason(&other, &n, "Insufficient example.com/gpu", "extended resource missing");
	sched_pod_clear(&other);
	sched_node_clear(&n);
}

static void test_selector_affinity(void)
{
	sched_node n;
	sched_pod p;
	const char *miss = "node(s) didn't match Pod's node affinity/selector";

	node_from(&n, "n1", "4", "8Gi", 110,
		  "{disktype: ssd, zone: a, cores: \"16\", kubernetes.io/hostname: n1}", NULL);
	simple_pod(&p, "p", "", "", "  nodeSelector: {disktype: ssd}\n");
	expect_reason(&p, &n, NULL, "nodeSelector matches");
	sched_pod_clear(&p);
	simple_pod(&p, "p", "", "", "  nodeSelector: {disktype: hdd}\n");
	expect_reason(&p, &n, miss, "nodeSelector value differs");
	sched_pod_clear(&p);
	simple_pod(&p, "p", "", "", "  nodeSelector: {kubernetes.io/hostname: n1}\n");
	expect_reason(&p, &n, NULL, "nodeSelector with a dotted key");
	sched_pod_clear(&p);

	static const struct {
		const char *term, *want, *name;
	} cases[] = {
		{"[{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]", NULL, "In"},
		{"[{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}]", "x", "NotIn"},
		{"[{matchExpressions: [{key: rack, operator: NotIn, values: [a]}]}]", NULL,
		 "NotIn an absent key"},
		{"[{matchExpressions: [{key: zone, operator: Exists}]}]", NULL, "Exists"},
		{"[{matchExpressions: [{key: zone, operator: DoesNotExist}]}]", "x",
		 "DoesNotExist"},
		{"[{matchExpressions: [{key: cores, operator: Gt, values: [\"8\"]}]}]", NULL, "Gt"},
		{"[{matchExpressions: [{key: cores, operator: Lt, values: [\"8\"]}]}]", "x", "Lt"},
		{"[{matchExpressions: [{key: zone, operator: Gt, values: [\"1\"]}]}]", "x",
		 "Gt on a non-integer"},
		{"[{matchFields: [{key: metadata.name, operator: In, values: [n1]}]}]", NULL,
		 "matchFields metadata.name"},
		{"[{matchFields: [{key: metadata.name, operator: NotIn, values: [n1]}]}]", "x",
		 "matchFields NotIn"},
		{"[{matchExpressions: [{key: zone, operator: In, values: [b]}]}, "
		 "{matchExpressions: [{key: disktype, operator: In, values: [ssd]}]}]",
		 NULL, "terms are ORed"},
		{"[{matchExpressions: [{key: zone, operator: In, values: [a]}, "
		 "{key: disktype, operator: In, values: [hdd]}]}]",
		 "x", "requirements are ANDed"},
		{"[{}]", "x", "an empty term matches nothing"},
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		char spec[1024];
		snprintf(spec, sizeof(spec),
			 "  affinity:\n    nodeAffinity:\n"
			 "      requiredDuringSchedulingIgnoredDuringExecution:\n"
			 "        nodeSelectorTerms: %s\n",
			 cases[i].term);
		simple_pod(&p, "p", "", "", spec);
		expect_reason(&p, &n, cases[i].want ? miss : NULL, cases[i].name);
		sched_pod_clear(&p);
	}

	simple_pod(&p, "p", "", "",
		   "  affinity:\n    nodeAffinity:\n"
		   "      preferredDuringSchedulingIgnoredDuringExecution:\n"
		   "      - {weight: 30, preference: {matchExpressions: [{key: zone, operator: In, "
		   "values: [a]}]}}\n"
		   "      - {weight: 5, preference: {matchExpressions: [{key: zone, operator: In, "
		   "values: [b]}]}}\n"
		   "      - {weight: 7, preference: {}}\n");
	is_int(sched_score_preferred_affinity(&p, &n), 30, "preferred terms: matched weights");
	sched_pod_clear(&p);
	sched_node_clear(&n);
}

static void test_taints(void)
{
	sched_node n;
	sched_pod p;

	node_from(&n, "n1", "4", "8Gi", 110, NULL,
		  "{taints: [{key: dedicated, value: gpu, effect: NoSchedule}, "
		  "{key: spot, effect: PreferNoSchedule}]}");
	simple_pod(&p, "p", "", "", NULL);
	expect_reason(&p, &n, "node(s) had untolerated taint {dedicated: gpu}", "NoSchedule taint");
	is_int(sched_score_intolerable_taints(&p, &n), 1, "PreferNoSchedule counts for scoring");
	sched_pod_clear(&p);

	static const struct {
		const char *tol;
		bool fits;
		const char *name;
	} cases[] = {
		{"[{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]", true,
		 "Equal with value and effect"},
		{"[{key: dedicated, value: gpu}]", true, "Equal is the default; any effect"},
		{"[{key: dedicated, value: cpu}]", false, "another value"},
		{"[{key: dedicated, operator: Exists}]", true, "Exists ignores the value"},
		{"[{operator: Exists}]", true, "Exists without a key tolerates everything"},
		{"[{key: dedicated, operator: Exists, effect: NoExecute}]", false,
		 "another effect"},
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		char spec[512];
		snprintf(spec, sizeof(spec), "  tolerations: %s\n", cases[i].tol);
		simple_pod(&p, "p", "", "", spec);
		expect_reason(&p, &n,
			      cases[i].fits ? NULL
					    : "node(s) had untolerated taint {dedicated: gpu}",
			      cases[i].name);
		sched_pod_clear(&p);
	}
	simple_pod(&p, "p", "", "",
		   "  tolerations: [{key: dedicated, operator: Exists}, {key: spot, operator: "
		   "Exists, effect: PreferNoSchedule}]\n");
	is_int(sched_score_intolerable_taints(&p, &n), 0, "a tolerated PreferNoSchedule taint");
	sched_pod_clear(&p);
	sched_node_clear(&n);

	node_from(&n, "n2", "4", "8Gi", 110, NULL,
		  "{taints: [{key: node.kubernetes.io/unreachable, effect: NoExecute}]}");
	simple_pod(&p, "p", "", "", NULL);
	expect_reason(&p, &n, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
		      "NoExecute keeps pods off too");
	sched_pod_clear(&p);
	simple_pod(&p, "p", "", "",
		   "  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, "
		   "effect: NoExecute, tolerationSeconds: 300}]\n");
	expect_reason(&p, &n, NULL, "NoExecute tolerated");
	sched_pod_clear(&p);
	sched_node_clear(&n);

	node_from(&n, "n3", "4", "8Gi", 110, NULL, "{unschedulable: true}");
	simple_pod(&p, "p", "", "", NULL);
	expect_reason(&p, &n, "node(s) were unschedulable", "a cordoned node");
	sched_pod_clear(&p);
	simple_pod(&p, "p", "", "",
		   "  tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, "
		   "effect: NoSchedule}]\n");
	expect_reason(&p, &n, NULL, "the unschedulable taint tolerated");
	sched_pod_clear(&p);
	sched_node_clear(&n);
}

static void test_readiness(void)
{
	static const struct {
		const char *conds, *want, *name;
	} cases[] = {
		{"[{type: Ready, status: \"False\"}]",
		 "node(s) had untolerated taint {node.kubernetes.io/not-ready: }", "Ready=False"},
		{"[{type: Ready, status: Unknown}]",
		 "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
		 "Ready=Unknown"},
		{"[]", "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
		 "no Ready condition yet"},
	};
	sk_err err = {0};
	sched_pod p;

	simple_pod(&p, "p", "", "", NULL);
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		char buf[512];
		sched_node n;
		snprintf(buf, sizeof(buf),
			 "kind: Node\nmetadata: {name: n}\nstatus:\n  allocatable: {cpu: 1, pods: "
			 "10}\n  conditions: %s\n",
			 cases[i].conds);
		json_t *o = yaml(buf);
		sched_node_parse(o, &n, &err);
		json_decref(o);
		expect_reason(&p, &n, cases[i].want, cases[i].name);
		sched_node_clear(&n);
	}
	sched_pod_clear(&p);

	/* the lifecycle controller's taint is there: no second one */
	json_t *o = yaml("kind: Node\nmetadata: {name: n}\nspec:\n  taints: [{key: "
			 "node.kubernetes.io/unreachable, effect: NoSchedule}]\n"
			 "status:\n  conditions: [{type: Ready, status: Unknown}]\n");
	sched_node n;
	sched_node_parse(o, &n, &err);
	is_int(n.ntaints, 1, "no synthetic taint beside the controller's");
	json_decref(o);
	sched_node_clear(&n);
}

static void test_ports(void)
{
	sched_node n;
	sched_pod a, b;
	const char *busy = "node(s) didn't have free ports for the requested pod ports";

	node_from(&n, "n1", "4", "8Gi", 110, NULL, NULL);
	pod_from("kind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		 "  - {name: a, ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, "
		 "hostPort: 5353, protocol: UDP, hostIP: 127.0.0.1}, {containerPort: 9000}]}\n",
		 &a);
	is_int(a.nports, 2, "only ports with a hostPort count");
	sched_node_add_pod(&n, &a);
	static const struct {
		const char *port, *want, *name;
	} cases[] = {
		{"{containerPort: 1, hostPort: 8080}", "x", "the same TCP port"},
		{"{containerPort: 1, hostPort: 8080, hostIP: 10.0.0.1}", "x",
		 "a specific address against 0.0.0.0"},
		{"{containerPort: 1, hostPort: 8080, protocol: UDP}", NULL, "another protocol"},
		{"{containerPort: 1, hostPort: 5353, protocol: UDP, hostIP: 127.0.0.2}", NULL,
		 "another address"},
		{"{containerPort: 1, hostPort: 5353, protocol: UDP}", "x",
		 "0.0.0.0 against a specific address"},
		{"{containerPort: 8080}", NULL, "no hostPort"},
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		char buf[512];
		snprintf(buf, sizeof(buf),
			 "kind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - {name: b, "
			 "ports: [%s]}\n",
			 cases[i].port);
		pod_from(buf, &b);
		expect_reason(&b, &n, cases[i].want ? busy : NULL, cases[i].name);
		sched_pod_clear(&b);
	}
	sched_node_remove_pod(&n, &a);
	is_int(n.nports, 0, "removing the pod frees its ports");
	sched_pod_clear(&a);
	sched_node_clear(&n);
}

static void test_pick(void)
{
	sched_node a, b, c;
	sched_pod p, q, huge;
	char *msg = NULL;

	node_from(&a, "node-a", "2", "4Gi", 110, "{zone: a}", NULL);
	node_from(&b, "node-b", "2", "4Gi", 110, "{zone: b}", NULL);
	sched_node *nodes[] = {&b, &a};
	simple_pod(&p, "p", "500m", "512Mi", NULL);
	is_int(sched_pick(&p, nodes, 2, &msg), 1, "equal nodes: the name that sorts first");
	ok(msg == NULL, "no message on success");
	sched_node_add_pod(&b, &p);
	simple_pod(&q, "q", "500m", "512Mi", NULL);
	is_int(sched_pick(&q, nodes, 2, &msg), 0, "bin packing: the fuller node wins");
	is_int(sched_score_most_allocated(&q, &b), 37,
	       "MostAllocated: (1 cpu of 2: 50, 1Gi of 4Gi: 25) / 2");
	is_int(sched_score_most_allocated(&q, &a), 18, "MostAllocated on the empty node");
	sched_pod_clear(&q);
	/* a pod that asks for nothing counts as 100m / 200Mi when scoring */
	simple_pod(&q, "q", "", "", NULL);
	is_int(sched_score_most_allocated(&q, &a), 4,
	       "MostAllocated with the non-zero defaults: (5 + 4) / 2");
	sched_pod_clear(&q);

	/* preferred affinity and PreferNoSchedule taints outweigh packing */
	simple_pod(&q, "q", "100m", "",
		   "  affinity:\n    nodeAffinity:\n"
		   "      preferredDuringSchedulingIgnoredDuringExecution:\n"
		   "      - {weight: 10, preference: {matchExpressions: [{key: zone, "
		   "operator: In, values: [a]}]}}\n");
	is_int(sched_pick(&q, nodes, 2, &msg), 1, "preferred affinity beats packing");
	sched_pod_clear(&q);

	simple_pod(&huge, "huge", "3", "1Gi", NULL);
	node_from(&c, "node-c", "8", "16Gi", 110, "{zone: c}",
		  "{taints: [{key: team, value: ml, effect: NoSchedule}]}");
	sched_node *three[] = {&a, &b, &c};
	ok(sched_pick(&huge, three, 3, &msg) < 0, "too large for a and b, c tainted");
	is_str(msg,
	       "0/3 nodes are available: 1 node(s) had untolerated taint {team: ml}, 2 "
	       "Insufficient cpu.",
	       "FitError: counts per reason, sorted as strings");
	free(msg);
	sched_pod_clear(&huge);

	simple_pod(&huge, "huge", "3", "1Gi", "  nodeSelector: {zone: a}\n");
	ok(sched_pick(&huge, nodes, 2, &msg) < 0, "too large for a, b does not match");
	is_str(msg,
	       "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node "
	       "affinity/selector.",
	       "FitError as in the issue");
	free(msg);
	ok(sched_pick(&huge, nodes, 0, &msg) < 0, "no nodes at all");
	is_str(msg, "no nodes available to schedule pods", "the no-nodes message");
	free(msg);
	sched_pod_clear(&huge);

	/* a Node update keeps what its pods hold */
	sched_node b2;
	node_from(&b2, "node-b", "4", "8Gi", 110, "{zone: b}", NULL);
	sched_node_take_pods(&b2, &b);
	is_int(b2.requested.cpu, 500, "take_pods: requests carried over");
	is_int(b2.npods, 1, "take_pods: pod count carried over");
	sched_node_clear(&b2);

	sched_pod_clear(&p);
	sched_node_clear(&a);
	sched_node_clear(&b);
	sched_node_clear(&c);
}

int main(void)
{
	test_requests();
	test_resources();
	test_selector_affinity();
	test_taints();
	test_readiness();
	test_ports();
	test_pick();
	return done_testing();
}
