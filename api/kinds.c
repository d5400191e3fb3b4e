/* The kind registry: every kind skiff serves, with what discovery needs
 * (resource names, short names, categories, verbs, subresources) and the
 * lookups kubectl's RESTMapper does on what a user types. */
#include "api_internal.h"

#include <ctype.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <strings.h>

static const char *const VERBS_ALL[] = {
	"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
/* Namespaces cannot be deleted as a collection. */
static const char *const VERBS_NS[] = {"create", "delete", "get",   "list",
				       "patch",	 "update", "watch", NULL};
static const char *const VERBS_STATUS[] = {"get", "patch", "update", NULL};
static const char *const VERBS_CREATE[] = {"create", NULL};
static const char *const VERBS_GET[] = {"get", NULL};
static const char *const VERBS_UPDATE[] = {"update", NULL};
static const char *const VERBS_CREATE_GET[] = {"create", "get", NULL};
static const char *const NONE[] = {NULL};
static const char *const CAT_ALL[] = {"all", NULL};

#define SUBS(a) a, SK_ARRAY_SIZE(a)

static const api_subresource NS_SUBS[] = {
	{"finalize", "Namespace", NULL, NULL, VERBS_UPDATE},
	{"status", "Namespace", NULL, NULL, VERBS_STATUS},
};
static const api_subresource NODE_SUBS[] = {
	{"status", "Node", NULL, NULL, VERBS_STATUS},
};
static const api_subresource PVC_SUBS[] = {
	{"status", "PersistentVolumeClaim", NULL, NULL, VERBS_STATUS},
};
static const api_subresource PV_SUBS[] = {
	{"status", "PersistentVolume", NULL, NULL, VERBS_STATUS},
};
static const api_subresource POD_SUBS[] = {
	{"binding", "Binding", NULL, NULL, VERBS_CREATE},
	{"exec", "PodExecOptions", NULL, NULL, VERBS_CREATE_GET},
	{"log", "Pod", NULL, NULL, VERBS_GET},
	{"status", "Pod", NULL, NULL, VERBS_STATUS},
};
static const api_subresource SVC_SUBS[] = {
	{"status", "Service", NULL, NULL, VERBS_STATUS},
};
static const api_subresource DEPLOY_SUBS[] = {
	{"scale", "Scale", "autoscaling", "v1", VERBS_STATUS},
	{"status", "Deployment", NULL, NULL, VERBS_STATUS},
};
static const api_subresource RS_SUBS[] = {
	{"scale", "Scale", "autoscaling", "v1", VERBS_STATUS},
	{"status", "ReplicaSet", NULL, NULL, VERBS_STATUS},
};

#define SHORT(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Discovery order: by group, then alphabetically by resource, as the
 * apiserver lists them (kubectl's `get all` follows this order). */
static const api_kind KINDS[] = {
	{"", "v1", "v1", "ConfigMap", "ConfigMapList", "configmaps", "configmap", true, false,
	 SHORT("cm"), NONE, VERBS_ALL, NULL, 0},
	{"", "v1", "v1", "Endpoints", "EndpointsList", "endpoints", "endpoints", true, false,
	 SHORT("ep"), NONE, VERBS_ALL, NULL, 0},
	{"", "v1", "v1", "Event", "EventList", "events", "event", true, false, SHORT("ev"), NONE,
	 VERBS_ALL, NULL, 0},
	{"", "v1", "v1", "Namespace", "NamespaceList", "namespaces", "namespace", false, true,
	 SHORT("ns"), NONE, VERBS_NS, SUBS(NS_SUBS)},
	{"", "v1", "v1", "Node", "NodeList", "nodes", "node", false, true, SHORT("no"), NONE,
	 VERBS_ALL, SUBS(NODE_SUBS)},
	{"", "v1", "v1", "PersistentVolumeClaim", "PersistentVolumeClaimList",
	 "persistentvolumeclaims", "persistentvolumeclaim", true, true, SHORT("pvc"), NONE,
	 VERBS_ALL, SUBS(PVC_SUBS)},
	{"", "v1", "v1", "PersistentVolume", "PersistentVolumeList", "persistentvolumes",
	 "persistentvolume", false, true, SHORT("pv"), NONE, VERBS_ALL, SUBS(PV_SUBS)},
	{"", "v1", "v1", "Pod", "PodList", "pods", "pod", true, true, SHORT("po"), CAT_ALL,
	 VERBS_ALL, SUBS(POD_SUBS)},
	{"", "v1", "v1", "Secret", "SecretList", "secrets", "secret", true, false, NONE, NONE,
	 VERBS_ALL, NULL, 0},
	{"", "v1", "v1", "Service", "ServiceList", "services", "service", true, true, SHORT("svc"),
	 CAT_ALL, VERBS_ALL, SUBS(SVC_SUBS)},
	{"apps", "v1", "apps/v1", "Deployment", "DeploymentList", "deployments", "deployment", true,
	 true, SHORT("deploy"), CAT_ALL, VERBS_ALL, SUBS(DEPLOY_SUBS)},
	{"apps", "v1", "apps/v1", "ReplicaSet", "ReplicaSetList", "replicasets", "replicaset", true,
	 true, SHORT("rs"), CAT_ALL, VERBS_ALL, SUBS(RS_SUBS)},
	{"coordination.k8s.io", "v1", "coordination.k8s.io/v1", "Lease", "LeaseList", "leases",
	 "lease", true, false, NONE, NONE, VERBS_ALL, NULL, 0},
};

const api_kind *api_kinds(size_t *n)
{
	*n = SK_ARRAY_SIZE(KINDS);
	return KINDS;
}

const api_kind *api_kind_by_kind(const char *group, const char *kind)
{
	for (size_t i = 0; kind && i < SK_ARRAY_SIZE(KINDS); i++)
		if (strcmp(KINDS[i].kind, kind) == 0 &&
		    (!group || strcmp(KINDS[i].group, group) == 0))
			return &KINDS[i];
	return NULL;
}

const api_kind *api_kind_by_gvk(const char *api_version, const char *kind)
{
	for (size_t i = 0; api_version && kind && i < SK_ARRAY_SIZE(KINDS); i++)
		if (strcmp(KINDS[i].kind, kind) == 0 &&
		    strcmp(KINDS[i].api_version, api_version) == 0)
			return &KINDS[i];
	return NULL;
}

const api_kind *api_kind_by_resource(const char *group, const char *resource)
{
	for (size_t i = 0; resource && i < SK_ARRAY_SIZE(KINDS); i++)
		if (strcmp(KINDS[i].resource, resource) == 0 &&
		    (!group || strcmp(KINDS[i].group, group) == 0))
			return &KINDS[i];
	return NULL;
}

const api_kind *api_kind_of(json_t *obj)
{
	return api_kind_by_gvk(api_get_str(obj, "apiVersion"), api_get_str(obj, "kind"));
}

/* Does a user's word name k: resource, singular, Kind or a short name,
 * compared case-insensitively as kubectl lower-cases what it matches. */
static bool names_kind(const api_kind *k, const char *word)
{
	if (!strcasecmp(word, k->resource) || !strcasecmp(word, k->singular) ||
	    !strcasecmp(word, k->kind))
		return true;
	for (const char *const *s = k->short_names; *s; s++)
		if (!strcasecmp(word, *s))
			return true;
	return false;
}

static const api_kind *resolve_in(const char *word, const char *group, const char *version)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(KINDS); i++) {
		const api_kind *k = &KINDS[i];
		if (group && strcasecmp(group, k->group) != 0)
			continue;
		if (version && strcasecmp(version, k->version) != 0)
			continue;
		/* The resource name wins over a short name of another kind. */
		if (!strcasecmp(word, k->resource))
			return k;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(KINDS); i++) {
		const api_kind *k = &KINDS[i];
		if (group && strcasecmp(group, k->group) != 0)
			continue;
		if (version && strcasecmp(version, k->version) != 0)
			continue;
		if (names_kind(k, word))
			return k;
	}
	return NULL;
}

const api_kind *api_kind_resolve(const char *name)
{
	char word[128];
	const char *dot, *rest, *dot2;
	const api_kind *k;

	if (!name || !*name || strlen(name) >= sizeof(word))
		return NULL;
	dot = strchr(name, '.');
	if (!dot)
		return resolve_in(name, NULL, NULL);
	memcpy(word, name, (size_t)(dot - name));
	word[dot - name] = 0;
	rest = dot + 1;
	/* "resource.group" first, then "resource.version.group", as
	 * schema.ParseResourceArg tries both. */
	k = resolve_in(word, rest, NULL);
	if (k)
		return k;
	dot2 = strchr(rest, '.');
	if (dot2) {
		char version[32];
		size_t vl = (size_t)(dot2 - rest);
		if (vl < sizeof(version)) {
			memcpy(version, rest, vl);
			version[vl] = 0;
			k = resolve_in(word, dot2 + 1, version);
		}
	}
	return k;
}

int api_kind_check(const api_kind *k, json_t *obj, sk_err *err)
{
	json_t *av = json_object_get(obj, "apiVersion");
	json_t *kind = json_object_get(obj, "kind");

	if (av && !json_is_null(av)) {
		if (!json_is_string(av))
			return sk_err_set(err, EINVAL, "apiVersion must be a string");
		if (json_string_length(av) && strcmp(json_string_value(av), k->api_version) != 0)
			return sk_err_set(err, EINVAL,
					  "the API version in the data (%s) does not match the "
					  "expected API version (%s)",
					  json_string_value(av), k->api_version);
	}
	if (kind && !json_is_null(kind)) {
		if (!json_is_string(kind))
			return sk_err_set(err, EINVAL, "kind must be a string");
		if (json_string_length(kind) && strcmp(json_string_value(kind), k->kind) != 0)
			return sk_err_set(err, EINVAL,
					  "the kind in the data (%s) does not match the expected "
					  "kind (%s)",
					  json_string_value(kind), k->kind);
	}
	json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	json_object_set_new(obj, "kind", json_string(k->kind));
	return 0;
}

const api_subresource *api_kind_subresource(const api_kind *k, const char *name)
{
	for (size_t i = 0; name && i < k->n_subresources; i++)
		if (strcmp(k->subresources[i].name, name) == 0)
			return &k->subresources[i];
	return NULL;
}

const char *api_kind_qualified_resource(const api_kind *k, char *buf, size_t n)
{
	if (k->group[0])
		snprintf(buf, n, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, n, "%s", k->resource);
	return buf;
}

void api_kind_storage_version_hash(const api_kind *k, char *buf, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char digest[32];
	char gvk[256];
	char out[16];
	size_t o = 0;

	snprintf(gvk, sizeof(gvk), "%s/%s/%s", k->group, k->version, k->kind);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, gvk, strlen(gvk), digest);
	/* 8 bytes: two full 3-byte groups and a 2-byte tail with one '='. */
	for (int i = 0; i < 8; i += 3) {
		uint32_t v = (uint32_t)digest[i] << 16;
		int have = 8 - i >= 3 ? 3 : 8 - i;
		if (have > 1)
			v |= (uint32_t)digest[i + 1] << 8;
		if (have > 2)
			v |= digest[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = have > 1 ? b64[(v >> 6) & 63] : '=';
		out[o++] = have > 2 ? b64[v & 63] : '=';
	}
	out[o] = 0;
	snprintf(buf, n, "%s", out);
}
