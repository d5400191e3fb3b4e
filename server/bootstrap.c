/* What every cluster has from its first start: the namespaces default,
 * kube-system, kube-public and kube-node-lease, and the `kubernetes`
 * Service in default (the service range's first address, port 443 to
 * this server) with its Endpoints. Existing objects are left alone, except
 * that the Endpoints follow the server's current address and port. */
#include "srv_internal.h"

#include <errno.h>

static int ensure(srv_server *s, const char *resource, const char *ns, json_t *obj, sk_err *err)
{
	const api_kind *k = api_kind_by_resource("", resource);
	srv_write_opts o = {0};
	srv_result res = {0};
	const char *name = api_meta_name(obj);

	if (srv_get(s, k, ns, name, &res) == 0) {
		srv_result_clear(&res);
		json_decref(obj);
		return 0;
	}
	srv_result_clear(&res);
	if (srv_create(s, k, ns, obj, &o, &res) < 0) {
		sk_err_set(err, EIO, "create %s %s: %s", resource, name,
			   api_get_str(res.body, "message"));
		srv_result_clear(&res);
		return -1;
	}
	srv_result_clear(&res);
	return 0;
}

static json_t *endpoints(srv_server *s)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:[{s:[{s:s}],s:[{s:s,s:i,s:s}]}]}",
			 "apiVersion", "v1", "kind", "Endpoints", "metadata", "name", "kubernetes",
			 "namespace", "default", "labels",
			 "endpointslice.kubernetes.io/skip-mirror", "true", "component",
			 "apiserver", "subsets", "addresses", "ip", s->host, "ports", "name",
			 "https", "port", s->port, "protocol", "TCP");
}

int srv_bootstrap(srv_server *s, sk_err *err)
{
	static const char *const namespaces[] = {"default", "kube-system", "kube-public",
						 "kube-node-lease"};
	char ip[64];

	for (size_t i = 0; i < SK_ARRAY_SIZE(namespaces); i++) {
		json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1", "kind",
				       "Namespace", "metadata", "name", namespaces[i], "labels",
				       "kubernetes.io/metadata.name", namespaces[i]);
		if (ensure(s, "namespaces", NULL, ns, err) < 0)
			return -1;
	}
	srv_ipalloc_nth(s->ips, 1, ip, sizeof(ip));
	json_t *svc =
		json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{s:s,s:[{s:s,s:i,s:i,s:s}]}}",
			  "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes",
			  "namespace", "default", "labels", "component", "apiserver", "provider",
			  "kubernetes", "spec", "clusterIP", ip, "ports", "name", "https", "port",
			  443, "targetPort", s->port, "protocol", "TCP");
	if (ensure(s, "services", "default", svc, err) < 0)
		return -1;
	/* the Endpoints name this server, wherever it listens now */
	const api_kind *ek = api_kind_by_resource("", "endpoints");
	srv_write_opts o = {0};
	srv_result res = {0};
	if (srv_update(s, ek, "default", "kubernetes", endpoints(s), &o, &res) < 0) {
		sk_err_set(err, EIO, "write endpoints default/kubernetes: %s",
			   api_get_str(res.body, "message"));
		srv_result_clear(&res);
		return -1;
	}
	srv_result_clear(&res);
	return 0;
}
