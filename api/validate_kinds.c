/* Validation of the kinds other than Pod: Service, Deployment and
 * ReplicaSet, ConfigMap and Secret, Namespace, Node, Endpoints, Event,
 * PersistentVolume(Claim), Lease, following pkg/apis/core/validation and
 * pkg/apis/apps/validation. */
#include "api_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRET_SIZE (1024 * 1024)
#define IP_MSG "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

static const char *const PROTOCOLS[] = {"SCTP", "TCP", "UDP", NULL};

/* ---- Service ------------------------------------------------------------------- */

static void validate_service_port(verr *v, json_t *p, bool require_name, json_t *names,
				  const char *path)
{
	const char *name = vstr(v, p, "name", path);
	const char *proto = vstr(v, p, "protocol", path);
	json_t *port = vget_int(v, p, "port", path);
	json_t *tp = vget_intstr(v, p, "targetPort", path);
	int64_t pn = port ? json_integer_value(port) : 0;

	if (require_name && !*name) {
		verr_required(v, fp("%s.name", path).s, "");
	} else if (*name) {
		validate_dns1123_label(v, name, fp("%s.name", path).s);
		if (json_object_get(names, name))
			verr_duplicate_str(v, fp("%s.name", path).s, name);
		json_object_set_new(names, name, json_true());
	}
	if (port_num_msg(pn))
		verr_invalid_int(v, fp("%s.port", path).s, pn, port_num_msg(pn));
	if (!*proto)
		verr_required(v, fp("%s.protocol", path).s, "");
	else if (!one_of(proto, PROTOCOLS))
		verr_not_supported(v, fp("%s.protocol", path).s, proto, PROTOCOLS);
	if (json_is_integer(tp) && port_num_msg(json_integer_value(tp))) {
		verr_invalid_int(v, fp("%s.targetPort", path).s, json_integer_value(tp),
				 port_num_msg(json_integer_value(tp)));
	} else if (json_is_string(tp)) {
		const char *m[NAME_MAX_MSGS];
		int n = port_name_msgs(json_string_value(tp), m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, fp("%s.targetPort", path).s, json_string_value(tp),
					 m[i]);
	}
	validate_nonnegative(v, vget_int(v, p, "nodePort", path), fp("%s.nodePort", path).s);
}

/* Go's %#v of the core.ServicePort key used in the duplicate check. */
static char *service_port_key(const char *proto, int64_t port)
{
	return sk_asprintf(
		"core.ServicePort{Name:\"\", Protocol:\"%s\", AppProtocol:(*string)(nil), "
		"Port:%lld, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, "
		"NodePort:0}",
		proto, (long long)port);
}

static void service_port_checks(verr *v, json_t *ports, const char *type)
{
	json_t *names = json_object(), *seen = json_object(), *nodeports = json_object(), *p;
	size_t i;

	json_array_foreach (ports, i, p) {
		fpath pp = fp("spec.ports[%zu]", i);
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		int64_t port = api_get_int(p, "port", 0), np = api_get_int(p, "nodePort", 0);
		_cleanup_free_ char *key = NULL, *npkey = NULL;

		if (!json_is_object(p)) {
			verr_type(v, pp.s, p, "object");
			continue;
		}
		validate_service_port(v, p, json_array_size(ports) > 1, names, pp.s);
		if (!strcmp(type, "ClusterIP") && np)
			verr_forbidden(v, fp("%s.nodePort", pp.s).s,
				       "may not be used when `type` is 'ClusterIP'");
		if (np) {
			npkey = sk_asprintf("%s/%lld", proto ? proto : "", (long long)np);
			if (json_object_get(nodeports, npkey))
				verr_duplicate_int(v, fp("%s.nodePort", pp.s).s, np);
			json_object_set_new(nodeports, npkey, json_true());
		}
		key = sk_asprintf("%s/%lld", proto ? proto : "", (long long)port);
		if (json_object_get(seen, key)) {
			_cleanup_free_ char *r = service_port_key(proto ? proto : "", port);
			verr_duplicate_raw(v, pp.s, r);
		}
		json_object_set_new(seen, key, json_true());
	}
	json_decref(names);
	json_decref(seen);
	json_decref(nodeports);
}

/* clusterIP and clusterIPs, normalized the way the strategy does before
 * validation (clusterIPs defaults to [clusterIP]). */
static json_t *cluster_ips(json_t *spec)
{
	json_t *ips = json_object_get(spec, "clusterIPs");
	const char *ip = json_string_value(json_object_get(spec, "clusterIP"));

	if (json_is_array(ips) && json_array_size(ips))
		return json_incref(ips);
	if (ip && *ip)
		return json_pack("[s]", ip);
	return json_array();
}

static void validate_cluster_ips(verr *v, json_t *spec, const char *type)
{
	json_t *ips = cluster_ips(spec), *ip;
	const char *first = json_string_value(json_object_get(spec, "clusterIP"));
	size_t i;

	if (!strcmp(type, "ExternalName")) {
		if (json_array_size(ips))
			verr_forbidden(v, "spec.clusterIPs",
				       "may not be set for ExternalName services");
		json_decref(ips);
		return;
	}
	if (first && *first && json_array_size(ips) &&
	    !sk_streq(first, json_string_value(json_array_get(ips, 0))))
		verr_invalid_json(v, "spec.clusterIPs", ips, "first value must match `clusterIP`");
	json_array_foreach (ips, i, ip) {
		const char *s = json_string_value(ip);
		if (i == 0 && sk_streq(s, "None")) {
			if (json_array_size(ips) > 1)
				verr_invalid_json(v, "spec.clusterIPs", ips,
						  "'None' must be the first and only value");
			continue;
		}
		if (!api_is_ip(s))
			verr_invalid_str(v, fp("spec.clusterIPs[%zu]", i).s, s ? s : "", IP_MSG);
	}
	json_decref(ips);
}

void validate_service(verr *v, json_t *svc, json_t *old)
{
	static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
					    NULL};
	static const char *const affinities[] = {"ClientIP", "None", NULL};
	static const char *const policies[] = {"Cluster", "Local", NULL};
	json_t *spec = vget_obj(v, svc, "spec", ""), *ports, *ip;
	const char *type = vstr(v, spec, "type", "spec");
	const char *aff = vstr(v, spec, "sessionAffinity", "spec");
	const char *etp = vstr(v, spec, "externalTrafficPolicy", "spec");
	const char *itp = vstr(v, spec, "internalTrafficPolicy", "spec");
	bool headless = sk_streq(api_get_str(spec, "clusterIP"), "None");
	size_t i;

	ports = vget_arr(v, spec, "ports", "spec");
	if (!json_array_size(ports) && !headless && strcmp(type, "ExternalName"))
		verr_required(v, "spec.ports", "");
	if (!strcmp(type, "ExternalName")) {
		_cleanup_free_ char *cname = sk_strdup(vstr(v, spec, "externalName", "spec"));
		size_t n = strlen(cname);
		if (n && cname[n - 1] == '.')
			cname[n - 1] = 0;
		if (*cname)
			validate_dns1123_subdomain(v, cname, "spec.externalName");
		else
			verr_required(v, "spec.externalName", "");
	}
	service_port_checks(v, ports, type);
	validate_labels(v, vget_obj(v, spec, "selector", "spec"), "spec.selector");
	if (!*aff) {
		verr_required(v, "spec.sessionAffinity", "");
	} else if (!one_of(aff, affinities)) {
		verr_not_supported(v, "spec.sessionAffinity", aff, affinities);
	} else if (!strcmp(aff, "ClientIP")) {
		json_t *t = api_get(spec, "sessionAffinityConfig.clientIP.timeoutSeconds");
		if (!json_is_integer(t))
			verr_required(v, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "");
		else if (json_integer_value(t) <= 0 || json_integer_value(t) > 86400)
			verr_invalid_int(v, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
					 json_integer_value(t),
					 "must be greater than 0 and less than 86400");
	} else if (json_object_get(spec, "sessionAffinityConfig")) {
		verr_forbidden(v, "spec.sessionAffinityConfig",
			       "must not be set when session affinity is None");
	}
	validate_cluster_ips(v, spec, type);
	json_array_foreach (vget_arr(v, spec, "externalIPs", "spec"), i, ip)
		if (!api_is_ip(json_string_value(ip)))
			verr_invalid_str(v, fp("spec.externalIPs[%zu]", i).s,
					 json_string_value(ip) ? json_string_value(ip) : "",
					 IP_MSG);
	if (!*type)
		verr_required(v, "spec.type", "");
	else if (!one_of(type, types))
		verr_not_supported(v, "spec.type", type, types);
	if (*etp && !one_of(etp, policies))
		verr_not_supported(v, "spec.externalTrafficPolicy", etp, policies);
	if (*itp && !one_of(itp, policies))
		verr_not_supported(v, "spec.internalTrafficPolicy", itp, policies);
	if (old && strcmp(type, "ExternalName") &&
	    !sk_streq(api_get_str(old, "spec.type"), "ExternalName")) {
		json_t *a = cluster_ips(spec), *b = cluster_ips(api_get(old, "spec"));
		if (json_array_size(b) && (!json_array_size(a) ||
					   !json_equal(json_array_get(a, 0), json_array_get(b, 0))))
			verr_invalid_json(v, "spec.clusterIPs[0]", a, "may not change once set");
		json_decref(a);
		json_decref(b);
	}
}

/* ---- Deployments and ReplicaSets ------------------------------------------- */

/* gogo protobuf's String() of a metav1.LabelSelector, which is how the
 * apiserver prints one in a field error. */
static char *label_selector_string(json_t *sel)
{
	sk_buf b = {0};
	json_t *ml = json_object_get(sel, "matchLabels"), *e, *val;
	const char *keys[256];
	size_t n = 0, i, j;
	const char *key;

	if (!json_is_object(sel))
		return sk_strdup("nil");
	json_object_foreach (ml, key, val)
		if (n < SK_ARRAY_SIZE(keys))
			keys[n++] = key;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(keys[j], keys[j - 1]) < 0; j--) {
			const char *t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	sk_buf_puts(&b, "&LabelSelector{MatchLabels:map[string]string{");
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(ml, keys[i]));
		sk_buf_printf(&b, "%s: %s,", keys[i], s ? s : "");
	}
	sk_buf_puts(&b, "},MatchExpressions:[]LabelSelectorRequirement{");
	json_array_foreach (json_object_get(sel, "matchExpressions"), i, e) {
		sk_buf_printf(&b, "LabelSelectorRequirement{Key:%s,Operator:%s,Values:[",
			      api_get_str(e, "key") ? api_get_str(e, "key") : "",
			      api_get_str(e, "operator") ? api_get_str(e, "operator") : "");
		json_array_foreach (json_object_get(e, "values"), j, val)
			sk_buf_printf(&b, "%s%s", j ? " " : "",
				      json_string_value(val) ? json_string_value(val) : "");
		sk_buf_puts(&b, "],},");
	}
	sk_buf_puts(&b, "},}");
	return sk_buf_steal(&b);
}

/* A percent ("25%") or a non-negative integer, as
 * ValidatePositiveIntOrPercent; returns the value for the 0/0 check. */
static int64_t validate_int_or_percent(verr *v, json_t *x, const char *path)
{
	if (json_is_string(x)) {
		const char *s = json_string_value(x);
		size_t n = strlen(s), d = strspn(s, "0123456789");
		if (n < 2 || d != n - 1 || s[n - 1] != '%') {
			verr_invalid_raw(
				v, path, s,
				"a valid percent string must be a numeric string followed by an "
				"ending '%' (e.g. '1%',  or '93%', regex used for validation is "
				"'[0-9]+%')");
			return -1;
		}
		if (atoll(s) > 100)
			verr_invalid_raw(v, path, s, "must not be greater than 100%");
		return atoll(s);
	}
	if (json_is_integer(x)) {
		validate_nonnegative(v, x, path);
		return json_integer_value(x);
	}
	return -1;
}

static void validate_strategy(verr *v, json_t *spec)
{
	static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
	json_t *st = vget_obj(v, spec, "strategy", "spec");
	const char *type = vstr(v, st, "type", "spec.strategy");
	json_t *ru = vget_obj(v, st, "rollingUpdate", "spec.strategy");

	if (!strcmp(type, "Recreate")) {
		if (ru)
			verr_forbidden(v, "spec.strategy.rollingUpdate",
				       "may not be specified when strategy `type` is 'Recreate'");
	} else if (!strcmp(type, "RollingUpdate")) {
		if (!ru) {
			verr_required(v, "spec.strategy.rollingUpdate",
				      "this should be defaulted and never be nil");
			return;
		}
		json_t *mu = vget_intstr(v, ru, "maxUnavailable", "spec.strategy.rollingUpdate");
		json_t *ms = vget_intstr(v, ru, "maxSurge", "spec.strategy.rollingUpdate");
		int64_t u = validate_int_or_percent(v, mu,
						    "spec.strategy.rollingUpdate.maxUnavailable");
		int64_t s = validate_int_or_percent(v, ms, "spec.strategy.rollingUpdate.maxSurge");
		if (u == 0 && s == 0) {
			_cleanup_free_ char *r = api_json_go_string(mu);
			if (json_is_string(mu)) {
				free(r);
				r = sk_strdup(json_string_value(mu));
			}
			verr_invalid_raw(v, "spec.strategy.rollingUpdate.maxUnavailable", r,
					 "may not be 0 when `maxSurge` is 0");
		}
	} else {
		/* Go prints the internal struct with %#v. */
		_cleanup_free_ char *q = api_go_quote(type);
		_cleanup_free_ char *r =
			sk_asprintf("apps.DeploymentStrategy{Type:%s, "
				    "RollingUpdate:(*apps.RollingUpdateDeployment)(%s)}",
				    q, ru ? "0xc000000000" : "nil");
		verr_not_supported_raw(v, "spec.strategy", r, types);
	}
}

/* The spec shared by ReplicaSets and Deployments: selector, template,
 * replicas, minReadySeconds. */
static void validate_workload_spec(verr *v, json_t *spec)
{
	json_t *sel = vget_obj(v, spec, "selector", "spec");
	json_t *tmpl = vget_obj(v, spec, "template", "spec");
	json_t *labels = api_get(tmpl, "metadata.labels");
	static const char *const always[] = {"Always", NULL};
	const char *rp;

	validate_nonnegative(v, vget_int(v, spec, "replicas", "spec"), "spec.replicas");
	validate_nonnegative(v, vget_int(v, spec, "minReadySeconds", "spec"),
			     "spec.minReadySeconds");
	if (!sel) {
		verr_required(v, "spec.selector", "");
	} else {
		validate_label_selector(v, sel, "spec.selector");
		if (!json_object_size(json_object_get(sel, "matchLabels")) &&
		    !json_array_size(json_object_get(sel, "matchExpressions"))) {
			_cleanup_free_ char *r = label_selector_string(sel);
			verr_invalid_raw(v, "spec.selector", r,
					 "empty selector is invalid for deployment");
		}
	}
	if (!tmpl) {
		verr_required(v, "spec.template", "");
		return;
	}
	if (sel) {
		api_selector *s = NULL;
		if (api_label_selector_from_json(sel, &s, NULL) < 0) {
			_cleanup_free_ char *r = label_selector_string(sel);
			verr_invalid_raw(v, "spec.selector", r, "invalid label selector");
		} else if (!api_selector_empty(s) &&
			   !api_label_selector_matches(s, json_is_object(labels) ? labels : NULL)) {
			static const char msg[] = "`selector` does not match template `labels`";
			if (json_is_object(labels))
				verr_invalid_json(v, "spec.template.metadata.labels", labels, msg);
			else
				verr_invalid_raw(v, "spec.template.metadata.labels",
						 "map[string]string(nil)", msg);
		}
		api_selector_free(s);
	}
	validate_pod_template(v, tmpl, "spec.template");
	rp = api_get_str(tmpl, "spec.restartPolicy");
	if (rp && *rp && strcmp(rp, "Always"))
		verr_not_supported(v, "spec.template.spec.restartPolicy", rp, always);
	if (api_get(tmpl, "spec.activeDeadlineSeconds"))
		verr_forbidden(v, "spec.template.spec.activeDeadlineSeconds",
			       "activeDeadlineSeconds in ReplicaSet is not Supported");
}

static void selector_immutable(verr *v, json_t *obj, json_t *old)
{
	json_t *a = api_get(obj, "spec.selector"), *b = api_get(old, "spec.selector");

	if (!json_equal(a ? a : json_null(), b ? b : json_null())) {
		_cleanup_free_ char *r = label_selector_string(a);
		verr_invalid_raw(v, "spec.selector", r, "field is immutable");
	}
}

void validate_deployment(verr *v, json_t *d, json_t *old)
{
	json_t *spec = vget_obj(v, d, "spec", "");
	json_t *rhl, *pds;

	if (!spec) {
		verr_required(v, "spec.selector", "");
		return;
	}
	validate_workload_spec(v, spec);
	validate_strategy(v, spec);
	rhl = vget_int(v, spec, "revisionHistoryLimit", "spec");
	validate_nonnegative(v, rhl, "spec.revisionHistoryLimit");
	pds = vget_int(v, spec, "progressDeadlineSeconds", "spec");
	if (pds) {
		validate_nonnegative(v, pds, "spec.progressDeadlineSeconds");
		if (json_integer_value(pds) <= api_get_int(spec, "minReadySeconds", 0))
			verr_invalid_int(v, "spec.progressDeadlineSeconds", json_integer_value(pds),
					 "must be greater than minReadySeconds");
	}
	vget_bool(v, spec, "paused", "spec");
	if (old)
		selector_immutable(v, d, old);
}

void validate_replicaset(verr *v, json_t *rs, json_t *old)
{
	json_t *spec = vget_obj(v, rs, "spec", "");

	if (!spec) {
		verr_required(v, "spec.selector", "");
		return;
	}
	validate_workload_spec(v, spec);
	if (old)
		selector_immutable(v, rs, old);
}

/* ---- ConfigMaps and Secrets -------------------------------------------------- */

/* IsConfigMapKey. */
static void validate_data_key(verr *v, const char *key, const char *path)
{
	size_t n = strlen(key);

	if (n > 253)
		verr_invalid_str(v, path, key, "must be no more than 253 characters");
	if (!n ||
	    strspn(key, "-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		verr_invalid_str(
			v, path, key,
			"a valid config key must consist of alphanumeric characters, '-', "
			"'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
			"used for validation is '[-._a-zA-Z0-9]+')");
	if (!strcmp(key, "."))
		verr_invalid_str(v, path, key, "must not be '.'");
	else if (!strcmp(key, ".."))
		verr_invalid_str(v, path, key, "must not be '..'");
	else if (sk_startswith(key, ".."))
		verr_invalid_str(v, path, key, "must not start with '..'");
}

/* Standard base64 with padding, as encoding/json decodes []byte. */
static bool base64_ok(const char *s, size_t *decoded)
{
	size_t n = strlen(s), pad = 0;

	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!alpha || pad)
			return false;
	}
	*decoded = n / 4 * 3 - pad;
	return true;
}

static void immutable_data(verr *v, json_t *obj, json_t *old)
{
	static const char *const fields[] = {"data", "binaryData"};

	if (!json_is_true(json_object_get(old, "immutable")))
		return;
	if (!json_is_true(json_object_get(obj, "immutable")))
		verr_forbidden(v, "immutable", "field is immutable when `immutable` is set");
	for (size_t i = 0; i < 2; i++) {
		json_t *a = json_object_get(obj, fields[i]), *b = json_object_get(old, fields[i]);
		if (!json_equal(a ? a : json_null(), b ? b : json_null()))
			verr_forbidden(v, fields[i], "field is immutable when `immutable` is set");
	}
}

void validate_configmap(verr *v, json_t *cm, json_t *old)
{
	json_t *data = vget_obj(v, cm, "data", ""), *bin = vget_obj(v, cm, "binaryData", ""), *val;
	const char *key;
	size_t total = 0, n;

	json_object_foreach (data, key, val) {
		fpath p = fp("data[%s]", key);
		validate_data_key(v, key, p.s);
		if (json_object_get(bin, key))
			verr_invalid_str(v, p.s, key, "duplicate of key present in binaryData");
		if (!json_is_string(val))
			verr_type(v, p.s, val, "string");
		total += json_string_length(val);
	}
	json_object_foreach (bin, key, val) {
		fpath p = fp("binaryData[%s]", key);
		validate_data_key(v, key, p.s);
		if (!json_is_string(val) || !base64_ok(json_string_value(val), &n))
			verr_invalid_str(v, p.s, json_string_value(val) ? "(data)" : "",
					 "must be base64-encoded");
		else
			total += n;
	}
	if (total > MAX_SECRET_SIZE)
		verr_too_long(v, "", MAX_SECRET_SIZE);
	vget_bool(v, cm, "immutable", "");
	if (old)
		immutable_data(v, cm, old);
}

static bool has_key(json_t *data, const char *key)
{
	return json_object_get(data, key) != NULL;
}

void validate_secret(verr *v, json_t *s, json_t *old)
{
	json_t *data = vget_obj(v, s, "data", ""), *val;
	const char *type = vstr(v, s, "type", "");
	const char *key;
	size_t total = 0, n;

	json_object_foreach (data, key, val) {
		fpath p = fp("data[%s]", key);
		validate_data_key(v, key, p.s);
		if (!json_is_string(val) || !base64_ok(json_string_value(val), &n))
			verr_invalid_str(v, p.s, json_is_string(val) ? "(data)" : "",
					 "illegal base64 data: must be base64-encoded");
		else
			total += n;
	}
	if (total > MAX_SECRET_SIZE)
		verr_too_long(v, "data", MAX_SECRET_SIZE);
	if (!strcmp(type, "kubernetes.io/service-account-token") &&
	    !api_meta_annotation(s, "kubernetes.io/service-account.name"))
		verr_required(v, "metadata.annotations[kubernetes.io/service-account.name]", "");
	if (!strcmp(type, "kubernetes.io/dockercfg") && !has_key(data, ".dockercfg"))
		verr_required(v, "data[.dockercfg]", "");
	if (!strcmp(type, "kubernetes.io/dockerconfigjson") && !has_key(data, ".dockerconfigjson"))
		verr_required(v, "data[.dockerconfigjson]", "");
	if (!strcmp(type, "kubernetes.io/basic-auth") && !has_key(data, "username") &&
	    !has_key(data, "password")) {
		verr_required(v, "data[username]", "");
		verr_required(v, "data[password]", "");
	}
	if (!strcmp(type, "kubernetes.io/ssh-auth") &&
	    !json_string_length(json_object_get(data, "ssh-privatekey")))
		verr_required(v, "data[ssh-privatekey]", "");
	if (!strcmp(type, "kubernetes.io/tls")) {
		if (!has_key(data, "tls.crt"))
			verr_required(v, "data[tls.crt]", "");
		if (!has_key(data, "tls.key"))
			verr_required(v, "data[tls.key]", "");
	}
	vget_bool(v, s, "immutable", "");
	if (old) {
		validate_immutable(v, json_object_get(s, "type"), json_object_get(old, "type"),
				   "type");
		immutable_data(v, s, old);
	}
}

/* ---- Namespaces, Nodes, Endpoints, Events ---------------------------------- */

void validate_namespace(verr *v, json_t *ns, json_t *old)
{
	static const char *const standard[] = {"kubernetes", "orphan", "foregroundDeletion", NULL};
	json_t *spec = vget_obj(v, ns, "spec", ""), *f;
	size_t i;

	(void)old;
	json_array_foreach (vget_arr(v, spec, "finalizers", "spec"), i, f) {
		const char *s = json_string_value(f);
		if (!s) {
			verr_type(v, fp("spec.finalizers[%zu]", i).s, f, "string");
			continue;
		}
		validate_qualified_name(v, s, "spec.finalizers");
		if (!strchr(s, '/') && !one_of(s, standard))
			verr_invalid_str(
				v, "spec.finalizers", s,
				"name is neither a standard finalizer name nor is it fully "
				"qualified");
	}
}

static bool is_cidr(const char *s)
{
	char addr[64];
	const char *slash = s ? strchr(s, '/') : NULL;
	int64_t bits;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = 0;
	if (!api_is_ip(addr) ||
	    sk_parse_int64(slash + 1, 0, strchr(addr, ':') ? 128 : 32, &bits, NULL) < 0)
		return false;
	return true;
}

void validate_node(verr *v, json_t *node, json_t *old)
{
	static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
	json_t *spec = vget_obj(v, node, "spec", ""), *t, *cidr, *status, *q;
	json_t *seen = json_object();
	const char *key;
	size_t i;

	json_array_foreach (vget_arr(v, spec, "taints", "spec"), i, t) {
		fpath p = fp("spec.taints[%zu]", i);
		const char *k = vstr(v, t, "key", p.s), *val = vstr(v, t, "value", p.s);
		const char *eff = vstr(v, t, "effect", p.s);
		_cleanup_free_ char *pair = sk_asprintf("%s/%s", k, eff);
		const char *m[NAME_MAX_MSGS];
		int n;

		if (!*k)
			verr_required(v, fp("%s.key", p.s).s, "");
		else
			validate_qualified_name(v, k, fp("%s.key", p.s).s);
		n = names_label_value(val, m);
		for (int x = 0; x < n; x++)
			verr_invalid_str(v, fp("%s.value", p.s).s, val, m[x]);
		if (!*eff)
			verr_required(v, fp("%s.effect", p.s).s, "");
		else if (!one_of(eff, effects))
			verr_not_supported(v, fp("%s.effect", p.s).s, eff, effects);
		if (json_object_get(seen, pair))
			verr_duplicate_str(v, p.s, pair);
		json_object_set_new(seen, pair, json_true());
	}
	json_decref(seen);
	json_array_foreach (vget_arr(v, spec, "podCIDRs", "spec"), i, cidr)
		if (!is_cidr(json_string_value(cidr)))
			verr_invalid_str(
				v, fp("spec.podCIDRs[%zu]", i).s,
				json_string_value(cidr) ? json_string_value(cidr) : "",
				"must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
	if (*vstr(v, spec, "podCIDR", "spec") && !is_cidr(api_get_str(spec, "podCIDR")))
		verr_invalid_str(v, "spec.podCIDR", api_get_str(spec, "podCIDR"),
				 "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
	vget_bool(v, spec, "unschedulable", "spec");
	status = vget_obj(v, node, "status", "");
	json_object_foreach (vget_obj(v, status, "capacity", "status"), key, q)
		validate_quantity(v, q, fp("status.capacity[%s]", key).s, NULL);
	json_object_foreach (vget_obj(v, status, "allocatable", "status"), key, q)
		validate_quantity(v, q, fp("status.allocatable[%s]", key).s, NULL);
	if (old && json_array_size(api_get(old, "spec.podCIDRs")) &&
	    !json_equal(api_get(old, "spec.podCIDRs"), api_get(node, "spec.podCIDRs")
							       ? api_get(node, "spec.podCIDRs")
							       : json_null()))
		verr_forbidden(v, "spec.podCIDRs",
			       "node updates may not change podCIDR except from \"\" to valid");
}

static void validate_endpoint_address(verr *v, json_t *a, const char *path)
{
	const char *ip = vstr(v, a, "ip", path), *host = vstr(v, a, "hostname", path);
	const char *node = vstr(v, a, "nodeName", path);

	if (!api_is_ip(ip))
		verr_invalid_str(v, fp("%s.ip", path).s, ip, "must be a valid IP address");
	if (*host)
		validate_dns1123_label(v, host, fp("%s.hostname", path).s);
	if (*node)
		validate_dns1123_subdomain(v, node, fp("%s.nodeName", path).s);
}

void validate_endpoints(verr *v, json_t *ep, json_t *old)
{
	json_t *ss, *a, *p;
	size_t i, j;

	(void)old;
	json_array_foreach (vget_arr(v, ep, "subsets", ""), i, ss) {
		fpath sp = fp("subsets[%zu]", i);
		json_t *addrs = vget_arr(v, ss, "addresses", sp.s);
		json_t *nra = vget_arr(v, ss, "notReadyAddresses", sp.s);
		json_t *ports = vget_arr(v, ss, "ports", sp.s);
		json_t *names = json_object();

		if (!json_array_size(addrs) && !json_array_size(nra))
			verr_required(v, sp.s, "must specify `addresses` or `notReadyAddresses`");
		json_array_foreach (addrs, j, a)
			validate_endpoint_address(v, a, fp("%s.addresses[%zu]", sp.s, j).s);
		json_array_foreach (nra, j, a)
			validate_endpoint_address(v, a, fp("%s.notReadyAddresses[%zu]", sp.s, j).s);
		json_array_foreach (ports, j, p) {
			fpath pp = fp("%s.ports[%zu]", sp.s, j);
			const char *name = vstr(v, p, "name", pp.s),
				   *proto = vstr(v, p, "protocol", pp.s);
			int64_t port = api_get_int(p, "port", 0);
			if (json_array_size(ports) > 1 && !*name)
				verr_required(v, fp("%s.name", pp.s).s, "");
			else if (*name)
				validate_dns1123_label(v, name, fp("%s.name", pp.s).s);
			if (*name && json_object_get(names, name))
				verr_duplicate_str(v, fp("%s.name", pp.s).s, name);
			json_object_set_new(names, name, json_true());
			if (port_num_msg(port))
				verr_invalid_int(v, fp("%s.port", pp.s).s, port,
						 port_num_msg(port));
			if (!*proto)
				verr_required(v, fp("%s.protocol", pp.s).s, "");
			else if (!one_of(proto, PROTOCOLS))
				verr_not_supported(v, fp("%s.protocol", pp.s).s, proto, PROTOCOLS);
		}
		json_decref(names);
	}
}

/* The legacy (core/v1) event rules: the involved object's namespace must
 * be the event's; events.k8s.io-style events name their reporter. */
void validate_event(verr *v, json_t *ev, json_t *old)
{
	json_t *io = vget_obj(v, ev, "involvedObject", "");
	const char *ns = api_meta_namespace(ev) ? api_meta_namespace(ev) : "";
	const char *ions = vstr(v, io, "namespace", "involvedObject");
	json_t *et = json_object_get(ev, "eventTime");

	(void)old;
	if (!et || json_is_null(et)) {
		if (!*ions ? (*ns && strcmp(ns, "default")) : strcmp(ns, ions))
			verr_invalid_str(v, "involvedObject.namespace", ions,
					 "does not match event.namespace");
	} else {
		if (!*ions && strcmp(ns, "default") && strcmp(ns, "kube-system"))
			verr_invalid_str(v, "involvedObject.namespace", ions,
					 "does not match event.namespace");
		if (!*vstr(v, ev, "reportingComponent", ""))
			verr_required(v, "reportingComponent", "");
		else
			validate_qualified_name(v, vstr(v, ev, "reportingComponent", ""),
						"reportingComponent");
		if (!*vstr(v, ev, "reportingInstance", ""))
			verr_required(v, "reportingInstance", "");
		if (!*vstr(v, ev, "action", ""))
			verr_required(v, "action", "");
		if (!*vstr(v, ev, "reason", ""))
			verr_required(v, "reason", "");
	}
	vget_int(v, ev, "count", "");
	vget_str(v, ev, "message", "");
}

/* ---- PersistentVolumes and claims ------------------------------------------ */

static const char *const ACCESS_MODES[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
					   "ReadWriteOncePod", NULL};
static const char *const VOLUME_MODES[] = {"Block", "Filesystem", NULL};
static const char *const PV_SOURCES[] = {"gcePersistentDisk",
					 "awsElasticBlockStore",
					 "hostPath",
					 "glusterfs",
					 "nfs",
					 "rbd",
					 "iscsi",
					 "cinder",
					 "cephfs",
					 "fc",
					 "flocker",
					 "flexVolume",
					 "azureFile",
					 "vsphereVolume",
					 "quobyte",
					 "azureDisk",
					 "photonPersistentDisk",
					 "portworxVolume",
					 "scaleIO",
					 "local",
					 "storageos",
					 "csi",
					 NULL};

static void validate_access_modes(verr *v, json_t *spec, const char *path)
{
	json_t *modes = vget_arr(v, spec, "accessModes", path), *m;
	size_t i;

	if (!json_array_size(modes))
		verr_required(v, fp("%s.accessModes", path).s,
			      "at least 1 access mode is required");
	json_array_foreach (modes, i, m)
		if (!one_of(json_string_value(m), ACCESS_MODES))
			verr_not_supported(v, fp("%s.accessModes", path).s,
					   json_string_value(m) ? json_string_value(m) : "",
					   ACCESS_MODES);
}

static void validate_class_and_mode(verr *v, json_t *spec, const char *path)
{
	const char *sc = vstr(v, spec, "storageClassName", path);
	const char *vm = vstr(v, spec, "volumeMode", path);

	if (*sc)
		validate_dns1123_subdomain(v, sc, fp("%s.storageClassName", path).s);
	if (*vm && !one_of(vm, VOLUME_MODES))
		verr_not_supported(v, fp("%s.volumeMode", path).s, vm, VOLUME_MODES);
}

void validate_pv(verr *v, json_t *pv, json_t *old)
{
	static const char *const policies[] = {"Delete", "Recycle", "Retain", NULL};
	static const char *const storage[] = {"storage", NULL};
	json_t *spec = vget_obj(v, pv, "spec", ""), *cap, *q, *x;
	const char *rp = vstr(v, spec, "persistentVolumeReclaimPolicy", "spec");
	const char *key;

	validate_access_modes(v, spec, "spec");
	cap = vget_obj(v, spec, "capacity", "spec");
	if (!json_object_size(cap)) {
		verr_required(v, "spec.capacity", "");
	} else if (!json_object_get(cap, "storage") || json_object_size(cap) > 1) {
		_cleanup_free_ char *r = json_dumps(cap, JSON_COMPACT | JSON_SORT_KEYS);
		verr_not_supported_raw(v, "spec.capacity", r, storage);
	}
	json_object_foreach (cap, key, q)
		validate_quantity(v, q, fp("spec.capacity[%s]", key).s, NULL);
	validate_volume_source_count(v, spec, "spec", PV_SOURCES);
	if ((x = vget_obj(v, spec, "hostPath", "spec"))) {
		const char *p = vstr(v, x, "path", "spec.hostPath");
		if (!*p)
			verr_required(v, "spec.hostPath.path", "");
		else if (strstr(p, "/../") || sk_endswith(p, "/..") || sk_startswith(p, "../") ||
			 !strcmp(p, ".."))
			verr_invalid_str(v, "spec.hostPath.path", p, "must not contain '..'");
	}
	if ((x = vget_obj(v, spec, "local", "spec"))) {
		const char *p = vstr(v, x, "path", "spec.local");
		if (!*p)
			verr_required(v, "spec.local.path", "");
	}
	if (*rp && !one_of(rp, policies))
		verr_not_supported(v, "spec.persistentVolumeReclaimPolicy", rp, policies);
	validate_class_and_mode(v, spec, "spec");
	if (old) {
		json_t *a = json_deep_copy(spec), *b = json_deep_copy(api_get(old, "spec"));
		static const char *const mutable_keys[] = {"accessModes",
							   "capacity",
							   "claimRef",
							   "persistentVolumeReclaimPolicy",
							   "storageClassName",
							   "mountOptions",
							   "volumeMode",
							   "nodeAffinity",
							   "volumeAttributesClassName"};
		for (size_t i = 0; i < SK_ARRAY_SIZE(mutable_keys); i++) {
			json_object_del(a, mutable_keys[i]);
			json_object_del(b, mutable_keys[i]);
		}
		if (!json_equal(a ? a : json_null(), b ? b : json_null()))
			verr_forbidden(v, "spec.persistentvolumesource",
				       "spec.persistentvolumesource is immutable after creation");
		json_decref(a);
		json_decref(b);
		validate_immutable(v, api_get(pv, "spec.volumeMode"),
				   api_get(old, "spec.volumeMode"), "volumeMode");
	}
}

void validate_pvc(verr *v, json_t *pvc, json_t *old)
{
	json_t *spec = vget_obj(v, pvc, "spec", "");
	json_t *req = api_get(spec, "resources.requests");
	json_t *st = json_object_get(req, "storage");
	int64_t m;

	validate_access_modes(v, spec, "spec");
	if (!st) {
		verr_required(v, "spec.resources[storage]", "");
	} else if (validate_quantity(v, st, "spec.resources[storage]", &m) && m <= 0) {
		_cleanup_free_ char *r = api_json_go_string(st);
		verr_invalid_raw(v, "spec.resources[storage]",
				 json_is_string(st) ? json_string_value(st) : r,
				 "must be greater than zero");
	}
	validate_class_and_mode(v, spec, "spec");
	if (old) {
		json_t *a = json_deep_copy(spec), *b = json_deep_copy(api_get(old, "spec"));
		api_del(a, "resources.requests");
		api_del(b, "resources.requests");
		json_object_del(a, "volumeAttributesClassName");
		json_object_del(b, "volumeAttributesClassName");
		/* The binder fills in volumeName once. */
		if (!json_object_get(b, "volumeName"))
			json_object_del(a, "volumeName");
		if (!json_equal(a ? a : json_null(), b ? b : json_null()))
			verr_forbidden(
				v, "spec",
				"spec is immutable after creation except resources.requests and "
				"volumeAttributesClassName for bound claims");
		json_decref(a);
		json_decref(b);
	}
}

/* ---- Leases ------------------------------------------------------------------ */

void validate_lease(verr *v, json_t *lease, json_t *old)
{
	json_t *spec = vget_obj(v, lease, "spec", "");
	json_t *d = vget_int(v, spec, "leaseDurationSeconds", "spec");
	json_t *t = vget_int(v, spec, "leaseTransitions", "spec");

	(void)old;
	if (d && json_integer_value(d) <= 0)
		verr_invalid_int(v, "spec.leaseDurationSeconds", json_integer_value(d),
				 "must be greater than 0");
	if (t && json_integer_value(t) < 0)
		verr_invalid_int(v, "spec.leaseTransitions", json_integer_value(t),
				 "must be greater than or equal to 0");
	vget_str(v, spec, "holderIdentity", "spec");
	vget_str(v, spec, "acquireTime", "spec");
	vget_str(v, spec, "renewTime", "spec");
}
