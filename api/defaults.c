/* Defaulting (pkg/apis/core/v1/defaults.go, apps/v1/defaults.go and the
 * +default markers of the v1 types) and what the registry strategies do
 * around create and update (PrepareForCreate/PrepareForUpdate, BeforeCreate
 * and BeforeUpdate). Everything is idempotent and keeps fields already
 * set; values of the wrong JSON type are left for validation to report. */
#include "api_internal.h"

#include <stdlib.h>
#include <string.h>

static bool is_kind(const api_kind *k, const char *kind)
{
	return k && !strcmp(k->kind, kind);
}

/* Set obj[key] = val (stolen) unless the key is present. */
static void set_default(json_t *obj, const char *key, json_t *val)
{
	if (json_is_object(obj) && !json_object_get(obj, key))
		json_object_set_new(obj, key, val);
	else
		json_decref(val);
}

static void default_str(json_t *obj, const char *key, const char *s)
{
	json_t *v = json_object_get(obj, key);

	/* Go cannot tell "" from absent, and defaults both. */
	if (json_is_object(obj) && (!v || json_is_null(v) || sk_streq(json_string_value(v), "")))
		json_object_set_new(obj, key, json_string(s));
}

static void default_int(json_t *obj, const char *key, int64_t n)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(obj) && (!v || json_is_null(v)))
		json_object_set_new(obj, key, json_integer(n));
}

/* A pointer-to-int default that Go also applies to an explicit 0
 * (probe thresholds are plain int32 fields where 0 means unset). */
static void default_nonzero(json_t *obj, const char *key, int64_t n)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(obj) &&
	    (!v || json_is_null(v) || (json_is_integer(v) && !json_integer_value(v))))
		json_object_set_new(obj, key, json_integer(n));
}

/* The object at obj[key], created when absent or null (Go structs always
 * serialize, so these appear as {} in the apiserver's answers). */
static json_t *sub_obj(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(obj))
		return NULL;
	if (!v || json_is_null(v)) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return json_is_object(v) ? v : NULL;
}

/* ---- quantities ---------------------------------------------------------- */

/* Quantities are stored in canonical form, as the typed encoding prints
 * them after SetDefaults_ResourceList rounded them up to milli-units:
 * "0.5" -> "500m", "1024Mi" -> "1Gi", 2 -> "2". Values that do not parse
 * are left for validation to report. */
static void canonical_quantity(json_t *parent, const char *key)
{
	json_t *q = json_object_get(parent, key);
	int64_t milli;
	char *s;

	if (!q || api_quantity_json_milli(q, &milli, NULL) < 0)
		return;
	if (json_is_real(q)) {
		char buf[64];
		json_t *str;
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(q));
		str = json_string(buf);
		s = api_quantity_string(str);
		json_decref(str);
	} else {
		s = api_quantity_string(q);
	}
	if (s && *s)
		json_object_set_new(parent, key, json_string(s));
	free(s);
}

static void canonical_list(json_t *list)
{
	const char *key;
	json_t *v;

	if (!json_is_object(list))
		return;
	json_object_foreach (list, key, v)
		canonical_quantity(list, key);
}

/* ---- pods and their templates ------------------------------------------- */

/* parsers.ParseImageName's tag: the part after the last ':' that follows
 * the last '/', "latest" when there is neither tag nor digest. */
static bool image_is_latest(const char *image)
{
	const char *at, *slash, *colon;
	size_t n;
	char name[512];

	if (!image)
		return true;
	at = strchr(image, '@');
	n = at ? (size_t)(at - image) : strlen(image);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, image, n);
	name[n] = 0;
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash))
		return strcmp(colon + 1, "latest") == 0;
	return at == NULL;
}

static void default_http_get(json_t *h)
{
	if (!json_is_object(h))
		return;
	default_str(h, "path", "/");
	default_str(h, "scheme", "HTTP");
}

static void default_probe(json_t *p)
{
	if (!json_is_object(p))
		return;
	default_nonzero(p, "timeoutSeconds", 1);
	default_nonzero(p, "periodSeconds", 10);
	default_nonzero(p, "successThreshold", 1);
	default_nonzero(p, "failureThreshold", 3);
	default_http_get(json_object_get(p, "httpGet"));
}

static void default_env(json_t *env)
{
	json_t *e;
	size_t i;

	json_array_foreach (env, i, e) {
		json_t *ref = api_get(e, "valueFrom.fieldRef");
		if (json_is_object(ref))
			default_str(ref, "apiVersion", "v1");
	}
}

static void default_container(json_t *c, bool requests_from_limits, bool host_network)
{
	json_t *ports, *p, *res, *lim, *req;
	const char *key;
	size_t i;

	if (!json_is_object(c))
		return;
	if (!json_string_length(json_object_get(c, "imagePullPolicy")))
		json_object_set_new(c, "imagePullPolicy",
				    json_string(image_is_latest(api_get_str(c, "image"))
							? "Always"
							: "IfNotPresent"));
	default_str(c, "terminationMessagePath", "/dev/termination-log");
	default_str(c, "terminationMessagePolicy", "File");
	ports = json_object_get(c, "ports");
	json_array_foreach (ports, i, p) {
		if (!json_is_object(p))
			continue;
		default_str(p, "protocol", "TCP");
		if (host_network && !api_get_int(p, "hostPort", 0) &&
		    json_object_get(p, "containerPort"))
			json_object_set(p, "hostPort", json_object_get(p, "containerPort"));
	}
	res = sub_obj(c, "resources");
	canonical_list(json_object_get(res, "limits"));
	canonical_list(json_object_get(res, "requests"));
	lim = json_object_get(res, "limits");
	if (requests_from_limits && json_is_object(lim) && json_object_size(lim)) {
		json_t *v;
		req = sub_obj(res, "requests");
		json_object_foreach (lim, key, v)
			set_default(req, key, json_incref(v));
	}
	default_probe(json_object_get(c, "livenessProbe"));
	default_probe(json_object_get(c, "readinessProbe"));
	default_probe(json_object_get(c, "startupProbe"));
	default_http_get(api_get(c, "lifecycle.postStart.httpGet"));
	default_http_get(api_get(c, "lifecycle.preStop.httpGet"));
	default_env(json_object_get(c, "env"));
}

/* The VolumeSource members: a volume with none of them is an emptyDir. */
static const char *const VOLUME_SOURCES[] = {"hostPath",
					     "emptyDir",
					     "gcePersistentDisk",
					     "awsElasticBlockStore",
					     "gitRepo",
					     "secret",
					     "nfs",
					     "iscsi",
					     "glusterfs",
					     "persistentVolumeClaim",
					     "rbd",
					     "flexVolume",
					     "cinder",
					     "cephfs",
					     "flocker",
					     "downwardAPI",
					     "fc",
					     "azureFile",
					     "configMap",
					     "vsphereVolume",
					     "quobyte",
					     "azureDisk",
					     "photonPersistentDisk",
					     "projected",
					     "portworxVolume",
					     "scaleIO",
					     "storageos",
					     "csi",
					     "ephemeral",
					     "image",
					     NULL};

const char *const *api_internal_volume_sources(void)
{
	return VOLUME_SOURCES;
}

static void default_volume(json_t *v)
{
	bool any = false;

	if (!json_is_object(v))
		return;
	for (const char *const *s = VOLUME_SOURCES; *s; s++) {
		json_t *src = json_object_get(v, *s);
		if (src && !json_is_null(src))
			any = true;
	}
	if (!any)
		json_object_set_new(v, "emptyDir", json_object());
	if (json_is_object(json_object_get(v, "emptyDir")))
		canonical_quantity(json_object_get(v, "emptyDir"), "sizeLimit");
	default_int(json_object_get(v, "secret"), "defaultMode", 0644);
	default_int(json_object_get(v, "configMap"), "defaultMode", 0644);
	default_int(json_object_get(v, "downwardAPI"), "defaultMode", 0644);
	default_int(json_object_get(v, "projected"), "defaultMode", 0644);
	if (json_is_object(json_object_get(v, "hostPath")))
		set_default(json_object_get(v, "hostPath"), "type", json_string(""));
}

/* SetDefaults_PodSpec and the per-container defaults; `pod` adds what
 * only a Pod gets (SetDefaults_Pod), not a template. */
static void default_pod_spec(json_t *spec, bool pod)
{
	static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
	bool host_network;
	json_t *c;
	size_t i;

	if (!json_is_object(spec))
		return;
	default_str(spec, "dnsPolicy", "ClusterFirst");
	default_str(spec, "restartPolicy", "Always");
	set_default(spec, "securityContext", json_object());
	default_int(spec, "terminationGracePeriodSeconds", 30);
	default_str(spec, "schedulerName", "default-scheduler");
	host_network = pod && json_is_true(json_object_get(spec, "hostNetwork"));
	for (size_t l = 0; l < SK_ARRAY_SIZE(lists); l++)
		json_array_foreach (json_object_get(spec, lists[l]), i, c)
			default_container(c, pod && l < 2, host_network && l < 2);
	json_array_foreach (json_object_get(spec, "volumes"), i, c)
		default_volume(c);
	canonical_list(json_object_get(spec, "overhead"));
	if (pod)
		set_default(spec, "enableServiceLinks", json_true());
}

static void default_template(json_t *tmpl)
{
	json_t *meta;

	if (!json_is_object(tmpl))
		return;
	/* The typed encoding of a template's zero creationTimestamp. */
	meta = sub_obj(tmpl, "metadata");
	set_default(meta, "creationTimestamp", json_null());
	default_pod_spec(sub_obj(tmpl, "spec"), false);
}

/* ---- the other kinds ------------------------------------------------------ */

static bool service_externally_accessible(json_t *spec)
{
	const char *type = api_get_str(spec, "type");

	return sk_streq(type, "LoadBalancer") || sk_streq(type, "NodePort") ||
	       (sk_streq(type, "ClusterIP") &&
		json_array_size(json_object_get(spec, "externalIPs")));
}

static void default_service(json_t *svc)
{
	json_t *spec = sub_obj(svc, "spec"), *p;
	const char *type, *aff;
	size_t i;

	if (!spec)
		return;
	default_str(spec, "sessionAffinity", "None");
	aff = api_get_str(spec, "sessionAffinity");
	if (sk_streq(aff, "None"))
		json_object_del(spec, "sessionAffinityConfig");
	if (sk_streq(aff, "ClientIP") &&
	    !json_is_integer(api_get(spec, "sessionAffinityConfig.clientIP.timeoutSeconds")))
		api_set_int(spec, "sessionAffinityConfig.clientIP.timeoutSeconds", 10800);
	default_str(spec, "type", "ClusterIP");
	type = api_get_str(spec, "type");
	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		json_t *tp;
		if (!json_is_object(p))
			continue;
		default_str(p, "protocol", "TCP");
		tp = json_object_get(p, "targetPort");
		if ((!tp || json_is_null(tp) || (json_is_integer(tp) && !json_integer_value(tp)) ||
		     sk_streq(json_string_value(tp), "")) &&
		    json_object_get(p, "port"))
			json_object_set(p, "targetPort", json_object_get(p, "port"));
	}
	if (service_externally_accessible(spec))
		default_str(spec, "externalTrafficPolicy", "Cluster");
	if (sk_streq(type, "NodePort") || sk_streq(type, "LoadBalancer") ||
	    sk_streq(type, "ClusterIP"))
		default_str(spec, "internalTrafficPolicy", "Cluster");
	if (sk_streq(type, "LoadBalancer"))
		set_default(spec, "allocateLoadBalancerNodePorts", json_true());
}

static void default_deployment(json_t *d)
{
	json_t *spec = sub_obj(d, "spec"), *strategy, *ru;

	if (!spec)
		return;
	default_int(spec, "replicas", 1);
	strategy = sub_obj(spec, "strategy");
	default_str(strategy, "type", "RollingUpdate");
	if (sk_streq(api_get_str(strategy, "type"), "RollingUpdate")) {
		ru = sub_obj(strategy, "rollingUpdate");
		set_default(ru, "maxUnavailable", json_string("25%"));
		set_default(ru, "maxSurge", json_string("25%"));
	}
	default_int(spec, "revisionHistoryLimit", 10);
	default_int(spec, "progressDeadlineSeconds", 600);
	default_template(sub_obj(spec, "template"));
}

static void default_replicaset(json_t *rs)
{
	json_t *spec = sub_obj(rs, "spec");

	if (!spec)
		return;
	default_int(spec, "replicas", 1);
	default_template(sub_obj(spec, "template"));
}

static void default_namespace(json_t *ns)
{
	const char *name = api_meta_name(ns);

	if (name && *name) {
		json_t *labels = api_get(ns, "metadata.labels");
		if (!labels || json_is_null(labels))
			api_set(ns, "metadata.labels", json_object());
		if (json_is_object(api_get(ns, "metadata.labels")))
			api_meta_set_label(ns, "kubernetes.io/metadata.name", name);
	}
	default_str(sub_obj(ns, "status"), "phase", "Active");
}

static void default_pv(json_t *pv)
{
	json_t *spec = sub_obj(pv, "spec");

	default_str(sub_obj(pv, "status"), "phase", "Pending");
	canonical_list(json_object_get(spec, "capacity"));
	default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
	default_str(spec, "volumeMode", "Filesystem");
	if (json_is_object(json_object_get(spec, "hostPath")))
		set_default(json_object_get(spec, "hostPath"), "type", json_string(""));
}

static void default_pvc(json_t *pvc)
{
	json_t *spec = sub_obj(pvc, "spec");

	default_str(sub_obj(pvc, "status"), "phase", "Pending");
	default_str(spec, "volumeMode", "Filesystem");
	canonical_list(api_get(spec, "resources.requests"));
	canonical_list(api_get(spec, "resources.limits"));
	canonical_list(api_get(pvc, "status.capacity"));
	sub_obj(spec, "resources");
}

static void default_endpoints(json_t *ep)
{
	json_t *ss, *p;
	size_t i, j;

	json_array_foreach (json_object_get(ep, "subsets"), i, ss)
		json_array_foreach (json_object_get(ss, "ports"), j, p)
			if (json_is_object(p))
				default_str(p, "protocol", "TCP");
}

static char *base64(const char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	sk_buf b = {0};

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		size_t have = n - i >= 3 ? 3 : n - i;
		if (have > 1)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (have > 2)
			v |= (unsigned char)s[i + 2];
		sk_buf_putc(&b, tab[(v >> 18) & 63]);
		sk_buf_putc(&b, tab[(v >> 12) & 63]);
		sk_buf_putc(&b, have > 1 ? tab[(v >> 6) & 63] : '=');
		sk_buf_putc(&b, have > 2 ? tab[v & 63] : '=');
	}
	return sk_buf_steal(&b);
}

/* The v1 -> internal conversion folds stringData into data (base64),
 * stringData winning, and the stored Secret never has stringData. */
static void default_secret(json_t *secret)
{
	json_t *sd = json_object_get(secret, "stringData"), *data, *v;
	const char *key;

	default_str(secret, "type", "Opaque");
	if (!json_is_object(sd))
		return;
	data = sub_obj(secret, "data");
	if (!data)
		return;
	json_object_foreach (sd, key, v) {
		if (!json_is_string(v))
			continue;
		char *enc = base64(json_string_value(v), json_string_length(v));
		json_object_set_new(data, key, json_string(enc));
		free(enc);
	}
	json_object_del(secret, "stringData");
}

static void default_node(json_t *node)
{
	json_t *status = json_object_get(node, "status");
	json_t *cap = json_object_get(status, "capacity");

	canonical_list(cap);
	canonical_list(json_object_get(status, "allocatable"));
	if (json_is_object(cap) && !json_object_get(status, "allocatable"))
		json_object_set_new(status, "allocatable", json_deep_copy(cap));
}

void api_default(const api_kind *k, json_t *obj)
{
	if (!k || !json_is_object(obj))
		return;
	if (is_kind(k, "Pod"))
		default_pod_spec(sub_obj(obj, "spec"), true);
	else if (is_kind(k, "Service"))
		default_service(obj);
	else if (is_kind(k, "Deployment"))
		default_deployment(obj);
	else if (is_kind(k, "ReplicaSet"))
		default_replicaset(obj);
	else if (is_kind(k, "Namespace"))
		default_namespace(obj);
	else if (is_kind(k, "Secret"))
		default_secret(obj);
	else if (is_kind(k, "PersistentVolume"))
		default_pv(obj);
	else if (is_kind(k, "PersistentVolumeClaim"))
		default_pvc(obj);
	else if (is_kind(k, "Endpoints"))
		default_endpoints(obj);
	else if (is_kind(k, "Node"))
		default_node(obj);
}

/* ---- create and update ------------------------------------------------------ */

/* qos.GetPodQOS over cpu and memory: BestEffort without any request or
 * limit, Guaranteed when every container limits both and requests equal
 * limits (requests were defaulted from limits), else Burstable. */
static const char *pod_qos(json_t *spec)
{
	static const char *const lists[] = {"containers", "initContainers"};
	static const char *const res[] = {"cpu", "memory"};
	bool any = false, guaranteed = true;
	json_t *c;
	size_t i;

	for (size_t l = 0; l < 2; l++) {
		json_array_foreach (json_object_get(spec, lists[l]), i, c) {
			json_t *req = api_get(c, "resources.requests");
			json_t *lim = api_get(c, "resources.limits");
			for (size_t r = 0; r < 2; r++) {
				json_t *rq = json_object_get(req, res[r]),
				       *lm = json_object_get(lim, res[r]);
				int64_t a = -1, b = -1;
				if (rq && api_quantity_json_milli(rq, &a, NULL) == 0 && a != 0)
					any = true;
				if (lm && api_quantity_json_milli(lm, &b, NULL) == 0 && b != 0)
					any = true;
				if (!lm || b <= 0 || (rq && a != b))
					guaranteed = false;
			}
		}
	}
	if (!any)
		return "BestEffort";
	return guaranteed ? "Guaranteed" : "Burstable";
}

/* What admission plugins on by default add to a new Pod: Priority
 * (priority 0 and PreemptLowerPriority without a class) and
 * DefaultTolerationSeconds (not-ready and unreachable for 300 s). */
static void admit_pod(json_t *spec)
{
	static const char *const taints[] = {"node.kubernetes.io/not-ready",
					     "node.kubernetes.io/unreachable"};
	json_t *tols, *t;
	size_t i;

	if (!json_string_length(json_object_get(spec, "priorityClassName"))) {
		default_int(spec, "priority", 0);
		default_str(spec, "preemptionPolicy", "PreemptLowerPriority");
	}
	tols = json_object_get(spec, "tolerations");
	if (tols && !json_is_array(tols))
		return;
	for (size_t k = 0; k < SK_ARRAY_SIZE(taints); k++) {
		bool have = false;
		json_array_foreach (tols, i, t) {
			const char *e = api_get_str(t, "effect");
			if (sk_streq(api_get_str(t, "key"), taints[k]) &&
			    (!e || !*e || !strcmp(e, "NoExecute")))
				have = true;
		}
		if (have)
			continue;
		if (!tols) {
			tols = json_array();
			json_object_set_new(spec, "tolerations", tols);
		}
		json_array_append_new(tols, json_pack("{s:s, s:s, s:s, s:I}", "key", taints[k],
						      "operator", "Exists", "effect", "NoExecute",
						      "tolerationSeconds", (json_int_t)300));
	}
}

static bool has_generation(const api_kind *k)
{
	return is_kind(k, "Deployment") || is_kind(k, "ReplicaSet");
}

void api_prepare_create(const api_kind *k, json_t *obj)
{
	json_t *meta;

	if (!k || !json_is_object(obj))
		return;
	meta = sub_obj(obj, "metadata");
	json_object_del(meta, "deletionTimestamp");
	json_object_del(meta, "deletionGracePeriodSeconds");
	if (has_generation(k))
		json_object_set_new(meta, "generation", json_integer(1));
	if (is_kind(k, "Pod")) {
		json_t *spec = sub_obj(obj, "spec");
		admit_pod(spec);
		json_object_set_new(
			obj, "status",
			json_pack("{s:s, s:s}", "phase", "Pending", "qosClass", pod_qos(spec)));
	} else if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet")) {
		json_object_set_new(obj, "status", json_object());
	} else if (is_kind(k, "Service")) {
		json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer"));
	} else if (is_kind(k, "Namespace")) {
		json_t *spec = sub_obj(obj, "spec");
		json_t *fin = json_object_get(spec, "finalizers");
		json_t *v;
		size_t i;
		bool have = false;
		json_array_foreach (fin, i, v)
			have = have || sk_streq(json_string_value(v), "kubernetes");
		if (!json_is_array(fin)) {
			fin = json_array();
			json_object_set_new(spec, "finalizers", fin);
		}
		if (!have)
			json_array_append_new(fin, json_string("kubernetes"));
		json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
	} else if (is_kind(k, "PersistentVolume") || is_kind(k, "PersistentVolumeClaim")) {
		json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
	}
}

static void copy_key(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v)
		json_object_set(dst, key, v);
	else
		json_object_del(dst, key);
}

/* rest.BeforeUpdate: fields an update cannot change. */
static void keep_server_meta(json_t *meta, json_t *old_meta)
{
	const char *oc = json_string_value(json_object_get(old_meta, "creationTimestamp"));

	copy_key(meta, old_meta, "generation");
	if (!json_string_length(json_object_get(meta, "uid")))
		copy_key(meta, old_meta, "uid");
	if (oc && *oc)
		copy_key(meta, old_meta, "creationTimestamp");
	if (json_object_get(old_meta, "deletionTimestamp"))
		copy_key(meta, old_meta, "deletionTimestamp");
	if (json_object_get(old_meta, "deletionGracePeriodSeconds") &&
	    !json_object_get(meta, "deletionGracePeriodSeconds"))
		copy_key(meta, old_meta, "deletionGracePeriodSeconds");
}

/* The service REST keeps allocated addresses and node ports on an update
 * that leaves them out (kubectl replace of a manifest without them). */
static void keep_service_allocations(json_t *svc, json_t *old)
{
	json_t *spec = api_get(svc, "spec"), *ospec = api_get(old, "spec");
	json_t *p, *op;
	size_t i, j;

	if (!json_is_object(spec) || sk_streq(api_get_str(spec, "type"), "ExternalName"))
		return;
	if (!json_string_length(json_object_get(spec, "clusterIP")) &&
	    json_string_length(json_object_get(ospec, "clusterIP"))) {
		static const char *const keys[] = {"clusterIP", "clusterIPs", "ipFamilies",
						   "ipFamilyPolicy"};
		for (size_t k = 0; k < SK_ARRAY_SIZE(keys); k++)
			if (!json_object_get(spec, keys[k]) || k == 0)
				copy_key(spec, ospec, keys[k]);
	}
	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		if (api_get_int(p, "nodePort", 0))
			continue;
		json_array_foreach (json_object_get(ospec, "ports"), j, op) {
			if (json_equal(json_object_get(p, "port"), json_object_get(op, "port")) &&
			    api_get_int(op, "nodePort", 0) &&
			    sk_streq(api_get_str(p, "protocol"), api_get_str(op, "protocol")))
				json_object_set(p, "nodePort", json_object_get(op, "nodePort"));
		}
	}
}

void api_prepare_update(const api_kind *k, json_t *obj, json_t *old)
{
	json_t *meta, *old_meta;
	bool changed;

	if (!k || !json_is_object(obj) || !json_is_object(old))
		return;
	meta = sub_obj(obj, "metadata");
	old_meta = api_get(old, "metadata");
	keep_server_meta(meta, old_meta);
	if (k->has_status)
		copy_key(obj, old, "status");
	if (is_kind(k, "Namespace")) {
		json_t *f = api_get(old, "spec.finalizers");
		api_set(obj, "spec.finalizers", f ? json_incref(f) : json_array());
	}
	if (is_kind(k, "Service"))
		keep_service_allocations(obj, old);
	if (!has_generation(k))
		return;
	/* Deployments also bump on annotation changes: they are copied to
	 * the ReplicaSets. */
	changed = !json_equal(api_get(obj, "spec") ? api_get(obj, "spec") : json_null(),
			      api_get(old, "spec") ? api_get(old, "spec") : json_null());
	if (is_kind(k, "Deployment") &&
	    !json_equal(api_meta_annotations(obj) ? api_meta_annotations(obj) : json_null(),
			api_meta_annotations(old) ? api_meta_annotations(old) : json_null()))
		changed = true;
	if (changed)
		api_meta_set_generation(obj, api_meta_generation(old) + 1);
}

void api_prepare_status_update(const api_kind *k, json_t *obj, json_t *old)
{
	json_t *meta, *old_meta, *v, *tmp;
	const char *key;

	if (!k || !json_is_object(obj) || !json_is_object(old))
		return;
	meta = sub_obj(obj, "metadata");
	old_meta = api_get(old, "metadata");
	keep_server_meta(meta, old_meta);
	/* Everything but metadata and status is the stored object's. */
	json_object_foreach (old, key, v)
		if (strcmp(key, "metadata") && strcmp(key, "status"))
			json_object_set(obj, key, v);
	json_object_foreach_safe (obj, tmp, key, v)
		if (strcmp(key, "metadata") && strcmp(key, "status") && !json_object_get(old, key))
			json_object_del(obj, key);
	if (is_kind(k, "Pod"))
		copy_key(meta, old_meta, "ownerReferences");
	if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet"))
		copy_key(meta, old_meta, "labels");
}

void api_service_set_cluster_ip(json_t *svc, const char *ip)
{
	json_t *spec = api_ensure_obj(svc, "spec");

	if (!spec || !ip)
		return;
	json_object_set_new(spec, "clusterIP", json_string(ip));
	json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
	if (!json_array_size(json_object_get(spec, "ipFamilies")))
		json_object_set_new(spec, "ipFamilies",
				    json_pack("[s]", strchr(ip, ':') ? "IPv6" : "IPv4"));
	default_str(spec, "ipFamilyPolicy", "SingleStack");
}
