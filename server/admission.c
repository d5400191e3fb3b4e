/* Admission: the parts of the apiserver's admission plugins and
 * registries that sit around the generic flow: namespace lifecycle
 * (NamespaceLifecycle), Service ClusterIP and NodePort allocation (the
 * service registry's allocators). */
#include "srv_internal.h"

#include <errno.h>

static const api_kind *ns_kind(void)
{
	return api_kind_by_resource("", "namespaces");
}

static bool is_service(const api_kind *k)
{
	return !*k->group && !strcmp(k->kind, "Service");
}

int srv_admit_namespace(srv_server *s, const api_kind *k, const char *ns, const char *name,
			srv_result *res)
{
	if (!k->namespaced)
		return 0;
	_cleanup_free_ char *key = srv_key(ns_kind(), NULL, ns);
	_cleanup_obj_ srv_obj *o = srv_cache_get(s->cache, key);
	if (!o)
		return srv_fail(res, api_status_not_found(ns_kind(), ns));
	/* a namespace is Terminating exactly when its deletion has begun */
	if (!o->deleting)
		return 0;
	_cleanup_free_ char *why = sk_asprintf(
		"unable to create new content in namespace %s because it is being terminated", ns);
	json_t *st = api_status_forbidden(k, name && *name ? name : NULL, why);
	json_t *details = api_ensure_obj(st, "details");
	json_object_set_new(details, "causes",
			    json_pack("[{s:s,s:s,s:s}]", "reason", "NamespaceTerminating",
				      "message", why, "field", "metadata.namespace"));
	return srv_fail(res, st);
}

/* ---- Services ----------------------------------------------------------------- */

static const char *svc_type(json_t *svc)
{
	const char *t = api_get_str(svc, "spec.type");

	return t ? t : "ClusterIP";
}

static bool needs_cluster_ip(json_t *svc)
{
	return strcmp(svc_type(svc), "ExternalName") != 0;
}

static bool wants_node_ports(json_t *svc)
{
	const char *t = svc_type(svc);

	return !strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer");
}

static json_t *invalid(json_t *svc, const char *field, const char *msg)
{
	json_t *causes = json_pack("[{s:s,s:s,s:s}]", "reason", "FieldValueInvalid", "message", msg,
				   "field", field);
	json_t *st = api_status_invalid(api_kind_by_resource("", "services"), api_meta_name(svc),
					causes);

	json_decref(causes);
	return st;
}

/* What one admission allocated, to give back if it fails. */
struct taken {
	char ip[64];
	int ports[64];
	size_t nports;
};

static void give_back(srv_server *s, struct taken *t)
{
	if (t->ip[0])
		srv_ipalloc_release(s->ips, t->ip);
	for (size_t i = 0; i < t->nports; i++)
		srv_portalloc_release(s->ports, t->ports[i]);
}

static int take_ip(srv_server *s, json_t *svc, const char *want, struct taken *t, srv_result *res)
{
	sk_err err = {0};

	if (want && !strcmp(want, "None")) {
		api_service_set_cluster_ip(svc, "None");
		return 0;
	}
	if (srv_ipalloc_take(s->ips, want, t->ip, sizeof(t->ip), &err) < 0) {
		t->ip[0] = '\0';
		_cleanup_free_ char *msg =
			want && *want
				? sk_asprintf("Invalid value: []string{\"%s\"}: failed to "
					      "allocate IP %s: %s",
					      want, want, err.msg)
				: sk_asprintf("Internal error: failed to allocate a serviceIP: %s",
					      err.msg);
		return srv_fail(res, invalid(svc, "spec.clusterIPs", msg));
	}
	api_service_set_cluster_ip(svc, t->ip);
	return 0;
}

static bool port_in(json_t *svc, int port)
{
	json_t *ports = api_get(svc, "spec.ports"), *p;
	size_t i;

	json_array_foreach (ports, i, p)
		if (api_get_int(p, "nodePort", 0) == port)
			return true;
	return false;
}

/* Give every port of a NodePort Service a node port: the one asked for,
 * the one it had (old), or a free one. */
static int take_node_ports(srv_server *s, json_t *svc, json_t *old, struct taken *t,
			   srv_result *res)
{
	json_t *ports = api_get(svc, "spec.ports"), *p, *op;
	json_t *old_ports = old ? api_get(old, "spec.ports") : NULL;
	size_t i, j;

	json_array_foreach (ports, i, p) {
		int want = (int)api_get_int(p, "nodePort", 0), got;
		sk_err err = {0};
		if (!want) {
			json_array_foreach (old_ports, j, op)
				if (api_get_int(op, "port", -1) == api_get_int(p, "port", -2) &&
				    api_get_int(op, "nodePort", 0))
					want = (int)api_get_int(op, "nodePort", 0);
			if (want) {
				json_object_set_new(p, "nodePort", json_integer(want));
				continue;
			}
		} else if (old && port_in(old, want)) {
			continue;
		}
		if (t->nports == SK_ARRAY_SIZE(t->ports) ||
		    srv_portalloc_take(s->ports, want, &got, &err) < 0) {
			_cleanup_free_ char *field = sk_asprintf("spec.ports[%zu].nodePort", i);
			_cleanup_free_ char *msg =
				want ? sk_asprintf("Invalid value: %d: %s", want,
						   err.msg[0] ? err.msg : "too many ports")
				     : sk_asprintf(
					       "Internal error: failed to allocate a nodePort: %s",
					       err.msg);
			return srv_fail(res, invalid(svc, field, msg));
		}
		t->ports[t->nports++] = got;
		json_object_set_new(p, "nodePort", json_integer(got));
	}
	return 0;
}

/* Release obj's allocations that `keep` does not hold (keep NULL: all). */
static void release_diff(srv_server *s, json_t *obj, json_t *keep)
{
	const char *ip = api_get_str(obj, "spec.clusterIP");
	json_t *ports = api_get(obj, "spec.ports"), *p;
	size_t i;

	if (ip && srv_ipalloc_contains(s->ips, ip) &&
	    (!keep || !sk_streq(ip, api_get_str(keep, "spec.clusterIP"))))
		srv_ipalloc_release(s->ips, ip);
	json_array_foreach (ports, i, p) {
		int np = (int)api_get_int(p, "nodePort", 0);
		if (np && (!keep || !wants_node_ports(keep) || !port_in(keep, np)))
			srv_portalloc_release(s->ports, np);
	}
}

static int admit_service(srv_server *s, json_t *svc, json_t *old, srv_result *res)
{
	const char *want = api_get_str(svc, "spec.clusterIP");
	struct taken t = {0};
	int ret = 0;

	pthread_mutex_lock(&s->alloc_lock);
	if (needs_cluster_ip(svc)) {
		const char *had =
			old && needs_cluster_ip(old) ? api_get_str(old, "spec.clusterIP") : NULL;
		if (had && (!want || !*want)) {
			/* an update that leaves the address out keeps it */
			api_set(svc, "spec.clusterIP", json_string(had));
			json_t *ips = api_get(old, "spec.clusterIPs");
			if (ips)
				api_set(svc, "spec.clusterIPs", json_deep_copy(ips));
		} else if (had && strcmp(had, want) != 0) {
			_cleanup_free_ char *msg = sk_asprintf(
				"Invalid value: []string{\"%s\"}: may not change once set", want);
			ret = srv_fail(res, invalid(svc, "spec.clusterIPs[0]", msg));
		} else if (!had) {
			ret = take_ip(s, svc, want, &t, res);
		}
	} else {
		api_del(svc, "spec.clusterIP");
		api_del(svc, "spec.clusterIPs");
	}
	if (ret == 0 && wants_node_ports(svc))
		ret = take_node_ports(s, svc, old, &t, res);
	else if (ret == 0) {
		json_t *ports = api_get(svc, "spec.ports"), *p;
		size_t i;
		json_array_foreach (ports, i, p)
			json_object_del(p, "nodePort");
	}
	if (ret < 0)
		give_back(s, &t);
	pthread_mutex_unlock(&s->alloc_lock);
	return ret;
}

int srv_admit_create(srv_server *s, const api_kind *k, json_t *obj, srv_result *res)
{
	if (is_service(k))
		return admit_service(s, obj, NULL, res);
	return 0;
}

int srv_admit_update(srv_server *s, const api_kind *k, json_t *obj, json_t *old, srv_result *res)
{
	if (is_service(k))
		return admit_service(s, obj, old, res);
	return 0;
}

void srv_admit_abort(srv_server *s, const api_kind *k, json_t *obj, json_t *old)
{
	if (!is_service(k))
		return;
	pthread_mutex_lock(&s->alloc_lock);
	release_diff(s, obj, old);
	pthread_mutex_unlock(&s->alloc_lock);
}

void srv_release(srv_server *s, const api_kind *k, json_t *obj)
{
	srv_admit_abort(s, k, obj, NULL);
}

void srv_release_replaced(srv_server *s, const api_kind *k, json_t *obj, json_t *old)
{
	if (!is_service(k))
		return;
	pthread_mutex_lock(&s->alloc_lock);
	release_diff(s, old, obj);
	pthread_mutex_unlock(&s->alloc_lock);
}

int srv_alloc_rebuild(srv_server *s, sk_err *err)
{
	const api_kind *k = api_kind_by_resource("", "services");
	srv_obj **objs;
	size_t n;
	bool more;
	int64_t rev;

	(void)err;
	srv_cache_list(s->cache, k, NULL, NULL, NULL, NULL, 0, &objs, &n, &more, &rev);
	pthread_mutex_lock(&s->alloc_lock);
	for (size_t i = 0; i < n; i++) {
		json_t *svc = srv_obj_parse(objs[i]), *ports, *p;
		const char *ip = svc ? api_get_str(svc, "spec.clusterIP") : NULL;
		char buf[64];
		size_t j;
		int got;
		if (ip && strcmp(ip, "None") != 0 && srv_ipalloc_contains(s->ips, ip))
			srv_ipalloc_take(s->ips, ip, buf, sizeof(buf), NULL);
		ports = svc ? api_get(svc, "spec.ports") : NULL;
		json_array_foreach (ports, j, p)
			if (api_get_int(p, "nodePort", 0))
				srv_portalloc_take(s->ports, (int)api_get_int(p, "nodePort", 0),
						   &got, NULL);
		json_decref(svc);
	}
	pthread_mutex_unlock(&s->alloc_lock);
	srv_objs_free(objs, n);
	return 0;
}
