/* The filters of kube-scheduler's default profile that apply to skiff's
 * nodes, in the profile's order, with their messages: NodeUnschedulable,
 * NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit.
 * As in the framework, the first filter that rejects a node decides its
 * reasons. */
#include "scheduler.h"

#include "../api/api.h"

#include <errno.h>
#include <stdarg.h>

static void reason(sched_reasons *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(sched_reasons *why, const char *fmt, ...)
{
	va_list ap;

	if (!why || why->n >= SCHED_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(why->r[why->n++], sizeof(why->r[0]), fmt, ap);
	va_end(ap);
}

/* ---- taints and tolerations ------------------------------------------------------ */

/* v1.Toleration.ToleratesTaint: an empty effect or key tolerates every
 * effect or key; Exists ignores the value, Equal (the default) compares
 * it. */
static bool tolerates(json_t *tol, const sched_taint *t)
{
	const char *effect = api_get_str(tol, "effect");
	const char *key = api_get_str(tol, "key");
	const char *op = api_get_str(tol, "operator");
	const char *value = api_get_str(tol, "value");

	if (effect && *effect && strcmp(effect, t->effect) != 0)
		return false;
	if (key && *key && strcmp(key, t->key) != 0)
		return false;
	if (!op || !*op || !strcmp(op, "Equal"))
		return !strcmp(value ? value : "", t->value);
	return !strcmp(op, "Exists");
}

static bool tolerated(json_t *tolerations, const sched_taint *t)
{
	json_t *tol;
	size_t i;

	json_array_foreach (tolerations, i, tol)
		if (tolerates(tol, t))
			return true;
	return false;
}

static bool filter_unschedulable(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	const sched_taint cordon = {
		.key = "node.kubernetes.io/unschedulable", .value = "", .effect = "NoSchedule"};

	if (!n->unschedulable || tolerated(p->tolerations, &cordon))
		return true;
	reason(why, "node(s) were unschedulable");
	return false;
}

static bool filter_node_name(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	if (!p->node_name || !strcmp(p->node_name, n->name))
		return true;
	reason(why, "node(s) didn't match the requested node name");
	return false;
}

/* Only NoSchedule and NoExecute taints keep pods off; the first one not
 * tolerated is named. */
static bool filter_taints(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	for (size_t i = 0; i < n->ntaints; i++) {
		const sched_taint *t = &n->taints[i];
		if (strcmp(t->effect, "NoSchedule") != 0 && strcmp(t->effect, "NoExecute") != 0)
			continue;
		if (tolerated(p->tolerations, t))
			continue;
		reason(why, "node(s) had untolerated taint {%s: %s}", t->key, t->value);
		return false;
	}
	return true;
}

/* ---- node affinity ---------------------------------------------------------------- */

static bool value_in(json_t *values, const char *v)
{
	json_t *x;
	size_t i;

	json_array_foreach (values, i, x)
		if (sk_streq(json_string_value(x), v))
			return true;
	return false;
}

static bool parse_int(const char *s, int64_t *out)
{
	sk_err err = {0};

	return s && sk_parse_int64(s, INT64_MIN, INT64_MAX, out, &err) == 0;
}

/* One NodeSelectorRequirement against the labels, as the node affinity
 * helpers turn it into a label selector: NotIn and DoesNotExist match
 * when the key is absent; Gt and Lt compare integers and need exactly
 * one value. An invalid requirement matches nothing. */
static bool requirement_matches(json_t *req, json_t *labels)
{
	const char *key = api_get_str(req, "key");
	const char *op = api_get_str(req, "operator");
	json_t *values = json_object_get(req, "values");
	const char *v;
	int64_t a, b;

	if (!key || !op)
		return false;
	/* not api_get_str: it walks dotted paths, and label keys have dots */
	v = json_string_value(json_object_get(labels, key));
	if (!strcmp(op, "In"))
		return v && value_in(values, v);
	if (!strcmp(op, "NotIn"))
		return !v || !value_in(values, v);
	if (!strcmp(op, "Exists"))
		return v != NULL;
	if (!strcmp(op, "DoesNotExist"))
		return v == NULL;
	if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
		if (!v || json_array_size(values) != 1 || !parse_int(v, &a) ||
		    !parse_int(json_string_value(json_array_get(values, 0)), &b))
			return false;
		return !strcmp(op, "Gt") ? a > b : a < b;
	}
	return false;
}

/* matchFields: only metadata.name, In or NotIn. */
static bool field_matches(json_t *req, const char *node_name)
{
	const char *key = api_get_str(req, "key");
	const char *op = api_get_str(req, "operator");
	json_t *values = json_object_get(req, "values");

	if (!sk_streq(key, "metadata.name") || !op)
		return false;
	if (!strcmp(op, "In"))
		return value_in(values, node_name);
	if (!strcmp(op, "NotIn"))
		return !value_in(values, node_name);
	return false;
}

static bool term_empty(json_t *term)
{
	return !json_array_size(json_object_get(term, "matchExpressions")) &&
	       !json_array_size(json_object_get(term, "matchFields"));
}

/* A NodeSelectorTerm: every requirement holds; an empty term matches
 * nothing. */
static bool term_matches(json_t *term, const sched_node *n)
{
	json_t *req;
	size_t i;

	if (term_empty(term))
		return false;
	json_array_foreach (json_object_get(term, "matchExpressions"), i, req)
		if (!requirement_matches(req, n->labels))
			return false;
	json_array_foreach (json_object_get(term, "matchFields"), i, req)
		if (!field_matches(req, n->name))
			return false;
	return true;
}

/* spec.nodeSelector (every label equal) and the required node affinity
 * (any of its terms). */
static bool filter_affinity(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	const char *key;
	json_t *v, *term;
	size_t i;
	bool match = true;

	json_object_foreach (p->node_selector, key, v)
		if (!sk_streq(json_string_value(json_object_get(n->labels, key)),
			      json_string_value(v)))
			match = false;
	json_t *required = api_get(p->affinity, "requiredDuringSchedulingIgnoredDuringExecution");
	if (match && required) {
		match = false;
		json_array_foreach (json_object_get(required, "nodeSelectorTerms"), i, term)
			if (term_matches(term, n))
				match = true;
	}
	if (!match)
		reason(why, "node(s) didn't match Pod's node affinity/selector");
	return match;
}

int64_t sched_score_preferred_affinity(const sched_pod *p, const sched_node *n)
{
	json_t *pref;
	size_t i;
	int64_t sum = 0;

	json_array_foreach (api_get(p->affinity, "preferredDuringSchedulingIgnoredDuringExecution"),
			    i, pref) {
		int64_t w = api_get_int(pref, "weight", 0);
		json_t *term = json_object_get(pref, "preference");
		if (w == 0 || !json_is_object(term) || term_empty(term))
			continue;
		if (term_matches(term, n))
			sum += w;
	}
	return sum;
}

int64_t sched_score_intolerable_taints(const sched_pod *p, const sched_node *n)
{
	int64_t count = 0;

	for (size_t i = 0; i < n->ntaints; i++) {
		const sched_taint *t = &n->taints[i];
		if (!strcmp(t->effect, "PreferNoSchedule") && !tolerated(p->tolerations, t))
			count++;
	}
	return count;
}

/* ---- host ports -------------------------------------------------------------------- */

/* Two host ports collide on the same protocol and port when their
 * addresses are equal or either is 0.0.0.0 (every address). */
static bool port_conflict(const sched_port *a, const sched_port *b)
{
	if (a->port != b->port || strcmp(a->protocol, b->protocol) != 0)
		return false;
	return !strcmp(a->ip, b->ip) || !strcmp(a->ip, "0.0.0.0") || !strcmp(b->ip, "0.0.0.0");
}

static bool filter_ports(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	for (size_t i = 0; i < p->nports; i++) {
		for (size_t j = 0; j < n->nports; j++) {
			if (port_conflict(&p->ports[i], &n->ports[j])) {
				reason(why, "node(s) didn't have free ports for the requested pod "
					    "ports");
				return false;
			}
		}
	}
	return true;
}

/* ---- resources ---------------------------------------------------------------------- */

static int64_t scalar_of(const sched_res *r, const char *name)
{
	for (size_t i = 0; i < r->nscalars; i++)
		if (!strcmp(r->scalars[i].name, name))
			return r->scalars[i].value;
	return 0;
}

/* NodeResourcesFit: the pod count always; each resource the pod requests
 * (> 0) must fit in allocatable minus what the node's pods request. All
 * shortfalls are reported, as Kubernetes does. */
static bool filter_resources(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	const sched_res *a = &n->allocatable, *u = &n->requested, *r = &p->req;
	bool fits = true;

	if ((int64_t)n->npods + 1 > a->pods) {
		reason(why, "Too many pods");
		fits = false;
	}
	if (r->cpu > 0 && r->cpu > a->cpu - u->cpu) {
		reason(why, "Insufficient cpu");
		fits = false;
	}
	if (r->memory > 0 && r->memory > a->memory - u->memory) {
		reason(why, "Insufficient memory");
		fits = false;
	}
	if (r->ephemeral > 0 && r->ephemeral > a->ephemeral - u->ephemeral) {
		reason(why, "Insufficient ephemeral-storage");
		fits = false;
	}
	for (size_t i = 0; i < r->nscalars; i++) {
		const sched_scalar *s = &r->scalars[i];
		if (s->value > 0 && s->value > scalar_of(a, s->name) - scalar_of(u, s->name)) {
			reason(why, "Insufficient %s", s->name);
			fits = false;
		}
	}
	return fits;
}

int64_t sched_score_most_allocated(const sched_pod *p, const sched_node *n)
{
	int64_t total[2] = {n->nonzero_requested.cpu + p->nonzero.cpu,
			    n->nonzero_requested.memory + p->nonzero.memory};
	int64_t cap[2] = {n->allocatable.cpu, n->allocatable.memory};
	int64_t sum = 0;

	for (int i = 0; i < 2; i++) {
		if (cap[i] <= 0)
			continue; /* scores 0 */
		int64_t req = total[i] > cap[i] ? cap[i] : total[i];
		sum += req * 100 / cap[i];
	}
	return sum / 2;
}

bool sched_filter(const sched_pod *p, const sched_node *n, sched_reasons *why)
{
	if (why)
		why->n = 0;
	return filter_unschedulable(p, n, why) && filter_node_name(p, n, why) &&
	       filter_taints(p, n, why) && filter_affinity(p, n, why) && filter_ports(p, n, why) &&
	       filter_resources(p, n, why);
}
