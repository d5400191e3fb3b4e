/* Discovery: /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version},
 * built from api/'s kind registry so that a kind added there is served
 * and discovered at once. kubectl relies on namespaced, kind, shortNames
 * and categories ("all" for `kubectl get all`), and on the scale
 * subresource's group/version/kind (COMPAT.md §4.1). */
#include "srv_internal.h"

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *resource_entry(const api_kind *k)
{
	char hash[32];
	json_t *e = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", k->resource, "singularName",
			      k->singular ? k->singular : "", "namespaced", k->namespaced, "kind",
			      k->kind, "verbs", strv_json(k->verbs));

	if (k->short_names && *k->short_names)
		json_object_set_new(e, "shortNames", strv_json(k->short_names));
	if (k->categories && *k->categories)
		json_object_set_new(e, "categories", strv_json(k->categories));
	api_kind_storage_version_hash(k, hash, sizeof(hash));
	json_object_set_new(e, "storageVersionHash", json_string(hash));
	return e;
}

static json_t *subresource_entry(const api_kind *k, const api_subresource *s)
{
	_cleanup_free_ char *name = sk_asprintf("%s/%s", k->resource, s->name);
	json_t *e =
		json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", name, "singularName", "", "namespaced",
			  k->namespaced, "kind", s->kind, "verbs", strv_json(s->verbs));

	if (s->group)
		json_object_set_new(e, "group", json_string(s->group));
	if (s->version)
		json_object_set_new(e, "version", json_string(s->version));
	return e;
}

static json_t *resource_list(const char *group, const char *version)
{
	_cleanup_free_ char *gv =
		*group ? sk_asprintf("%s/%s", group, version) : sk_strdup(version);
	json_t *res = json_array();
	size_t n;
	const api_kind *kinds = api_kinds(&n);

	for (size_t i = 0; i < n; i++) {
		const api_kind *k = &kinds[i];
		if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
			continue;
		json_array_append_new(res, resource_entry(k));
		for (size_t j = 0; j < k->n_subresources; j++)
			json_array_append_new(res, subresource_entry(k, &k->subresources[j]));
	}
	return json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", gv, "resources", res);
}

/* Is there a kind in (group, version)? */
static bool group_version_exists(const char *group, const char *version)
{
	size_t n;
	const api_kind *kinds = api_kinds(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(kinds[i].group, group) &&
		    (!version || !strcmp(kinds[i].version, version)))
			return true;
	return false;
}

static json_t *group_entry(const char *group)
{
	json_t *versions = json_array();
	size_t n;
	const api_kind *kinds = api_kinds(&n);
	const char *preferred = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(kinds[i].group, group) != 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(kinds[j].group, group) &&
			    !strcmp(kinds[j].version, kinds[i].version))
				seen = true;
		if (seen)
			continue;
		_cleanup_free_ char *gv = sk_asprintf("%s/%s", group, kinds[i].version);
		json_array_append_new(versions, json_pack("{s:s,s:s}", "groupVersion", gv,
							  "version", kinds[i].version));
		if (!preferred)
			preferred = kinds[i].version;
	}
	_cleanup_free_ char *pgv = sk_asprintf("%s/%s", group, preferred ? preferred : "v1");
	return json_pack("{s:s,s:o,s:{s:s,s:s}}", "name", group, "versions", versions,
			 "preferredVersion", "groupVersion", pgv, "version",
			 preferred ? preferred : "v1");
}

static json_t *group_list(void)
{
	json_t *groups = json_array();
	size_t n;
	const api_kind *kinds = api_kinds(&n);

	for (size_t i = 0; i < n; i++) {
		const char *g = kinds[i].group;
		bool seen = !*g;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(kinds[j].group, g);
		if (!seen)
			json_array_append_new(groups, group_entry(g));
	}
	return json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
			 groups);
}

static json_t *api_versions(srv_req *r)
{
	_cleanup_free_ char *addr = sk_asprintf("%s:%d", r->srv->host, r->srv->port);

	return json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions", "v1",
			 "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
			 addr);
}

bool srv_discovery_handle(srv_req *r)
{
	char **s = r->segs;
	size_t n = r->nsegs;
	json_t *doc = NULL;

	if (n == 0 || (strcmp(s[0], "api") != 0 && strcmp(s[0], "apis") != 0) || n > 3)
		return false;
	if (!strcmp(s[0], "api")) {
		if (n == 1)
			doc = api_versions(r);
		else if (n == 2 && !strcmp(s[1], "v1"))
			doc = resource_list("", "v1");
		else
			return false;
	} else if (n == 1) {
		doc = group_list();
	} else if (n == 2) {
		if (!*s[1] || !group_version_exists(s[1], NULL))
			return false;
		doc = group_entry(s[1]);
		json_object_set_new(doc, "kind", json_string("APIGroup"));
		json_object_set_new(doc, "apiVersion", json_string("v1"));
	} else {
		if (!*s[1] || !group_version_exists(s[1], s[2]))
			return false;
		doc = resource_list(s[1], s[2]);
	}
	if (strcmp(r->method, "GET") != 0) {
		json_decref(doc);
		srv_reply_status(r, api_status_method_not_allowed(NULL, r->method));
		return true;
	}
	srv_reply_json(r, 200, doc);
	return true;
}
