/* Paths into objects, metadata accessors, and the small object builders
 * (lists, Scale, PartialObjectMetadata). All on jansson trees. */
#include "api_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Walk a dotted path one step at a time; the final key is in *last. */
static json_t *walk(json_t *obj, const char *path, bool create, char *last, size_t n)
{
	const char *p = path, *dot;

	while ((dot = strchr(p, '.')) != NULL) {
		char key[256];
		size_t len = (size_t)(dot - p);
		json_t *next;

		if (!json_is_object(obj) || len >= sizeof(key))
			return NULL;
		memcpy(key, p, len);
		key[len] = 0;
		next = json_object_get(obj, key);
		if (!json_is_object(next)) {
			if (!create)
				return NULL;
			next = json_object();
			json_object_set_new(obj, key, next);
		}
		obj = next;
		p = dot + 1;
	}
	if (!json_is_object(obj) || strlen(p) >= n)
		return NULL;
	strcpy(last, p);
	return obj;
}

json_t *api_get(json_t *obj, const char *path)
{
	char last[256];
	json_t *parent = walk(obj, path, false, last, sizeof(last));

	return parent ? json_object_get(parent, last) : NULL;
}

const char *api_get_str(json_t *obj, const char *path)
{
	return json_string_value(api_get(obj, path));
}

int64_t api_get_int(json_t *obj, const char *path, int64_t dflt)
{
	json_t *v = api_get(obj, path);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool api_get_bool(json_t *obj, const char *path, bool dflt)
{
	json_t *v = api_get(obj, path);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *api_ensure_obj(json_t *obj, const char *path)
{
	char last[256];
	json_t *parent = walk(obj, path, true, last, sizeof(last));
	json_t *v;

	if (!parent)
		return NULL;
	v = json_object_get(parent, last);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(parent, last, v);
	}
	return v;
}

void api_set(json_t *obj, const char *path, json_t *val)
{
	char last[256];
	json_t *parent = walk(obj, path, true, last, sizeof(last));

	if (!parent) {
		json_decref(val);
		return;
	}
	json_object_set_new(parent, last, val);
}

void api_set_str(json_t *obj, const char *path, const char *s)
{
	if (!s)
		api_del(obj, path);
	else
		api_set(obj, path, json_string(s));
}

void api_set_int(json_t *obj, const char *path, int64_t v)
{
	api_set(obj, path, json_integer(v));
}

void api_del(json_t *obj, const char *path)
{
	char last[256];
	json_t *parent = walk(obj, path, false, last, sizeof(last));

	if (parent)
		json_object_del(parent, last);
}

bool api_json_is_int(json_t *j)
{
	return json_is_integer(j);
}

int64_t api_now_sec(void)
{
	return sk_now_ns() / 1000000000LL;
}

/* ---- JSON bodies --------------------------------------------------------- */

/* Depth of a tree, stopping as soon as it passes the bound. */
static bool depth_ok(json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > API_MAX_DEPTH)
		return false;
	if (json_is_object(j)) {
		json_object_foreach (j, key, v)
			if (!depth_ok(v, depth + 1))
				return false;
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (!depth_ok(v, depth + 1))
				return false;
	}
	return true;
}

int api_json_parse(const char *text, size_t len, json_t **obj, sk_err *err)
{
	json_error_t jerr;
	json_t *j;

	if (len > API_MAX_BODY)
		return sk_err_set(err, E2BIG, "request body of %zu bytes is over the limit of %u",
				  len, API_MAX_BODY);
	/* jansson bounds its own recursion (2048 levels); ours is tighter. */
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!j)
		return sk_err_set(err, EINVAL, "invalid JSON at line %d column %d: %s", jerr.line,
				  jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return sk_err_set(err, EINVAL, "invalid JSON: the body must be an object");
	}
	if (!depth_ok(j, 1)) {
		json_decref(j);
		return sk_err_set(err, EINVAL, "invalid JSON: nested deeper than %d levels",
				  API_MAX_DEPTH);
	}
	*obj = j;
	return 0;
}

/* ---- metadata ------------------------------------------------------------ */

const char *api_meta_name(json_t *obj)
{
	return api_get_str(obj, "metadata.name");
}

const char *api_meta_generate_name(json_t *obj)
{
	return api_get_str(obj, "metadata.generateName");
}

const char *api_meta_namespace(json_t *obj)
{
	return api_get_str(obj, "metadata.namespace");
}

const char *api_meta_uid(json_t *obj)
{
	return api_get_str(obj, "metadata.uid");
}

const char *api_meta_resource_version(json_t *obj)
{
	return api_get_str(obj, "metadata.resourceVersion");
}

const char *api_meta_creation_timestamp(json_t *obj)
{
	return api_get_str(obj, "metadata.creationTimestamp");
}

const char *api_meta_deletion_timestamp(json_t *obj)
{
	return api_get_str(obj, "metadata.deletionTimestamp");
}

int64_t api_meta_generation(json_t *obj)
{
	return api_get_int(obj, "metadata.generation", 0);
}

void api_meta_set_name(json_t *obj, const char *name)
{
	api_set_str(obj, "metadata.name", name);
}

void api_meta_set_namespace(json_t *obj, const char *ns)
{
	api_set_str(obj, "metadata.namespace", ns);
}

void api_meta_set_uid(json_t *obj, const char *uid)
{
	api_set_str(obj, "metadata.uid", uid);
}

void api_meta_set_resource_version(json_t *obj, const char *rv)
{
	api_set_str(obj, "metadata.resourceVersion", rv);
}

int64_t api_meta_resource_version_int(json_t *obj)
{
	const char *rv = api_meta_resource_version(obj);
	int64_t v;

	if (!rv || !*rv)
		return 0;
	if (sk_parse_int64(rv, 0, INT64_MAX, &v, NULL) < 0)
		return -1;
	return v;
}

void api_meta_set_resource_version_int(json_t *obj, int64_t rv)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, rv);
	api_meta_set_resource_version(obj, buf);
}

void api_meta_set_creation_timestamp(json_t *obj, int64_t unix_sec)
{
	char buf[40];

	sk_rfc3339(unix_sec, buf, sizeof(buf));
	api_set_str(obj, "metadata.creationTimestamp", buf);
}

void api_meta_set_deletion_timestamp(json_t *obj, int64_t unix_sec)
{
	char buf[40];

	sk_rfc3339(unix_sec, buf, sizeof(buf));
	api_set_str(obj, "metadata.deletionTimestamp", buf);
}

void api_meta_set_generation(json_t *obj, int64_t generation)
{
	api_set_int(obj, "metadata.generation", generation);
}

json_t *api_meta_labels(json_t *obj)
{
	json_t *l = api_get(obj, "metadata.labels");

	return json_is_object(l) ? l : NULL;
}

const char *api_meta_label(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(api_meta_labels(obj), key));
}

static void set_map_entry(json_t *obj, const char *path, const char *key, const char *value)
{
	json_t *map;

	if (!value) {
		map = api_get(obj, path);
		if (json_is_object(map))
			json_object_del(map, key);
		return;
	}
	map = api_ensure_obj(obj, path);
	if (map)
		json_object_set_new(map, key, json_string(value));
}

void api_meta_set_label(json_t *obj, const char *key, const char *value)
{
	set_map_entry(obj, "metadata.labels", key, value);
}

json_t *api_meta_annotations(json_t *obj)
{
	json_t *a = api_get(obj, "metadata.annotations");

	return json_is_object(a) ? a : NULL;
}

const char *api_meta_annotation(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(api_meta_annotations(obj), key));
}

void api_meta_set_annotation(json_t *obj, const char *key, const char *value)
{
	set_map_entry(obj, "metadata.annotations", key, value);
}

bool api_meta_has_finalizer(json_t *obj, const char *finalizer)
{
	json_t *f = api_get(obj, "metadata.finalizers"), *v;
	size_t i;

	json_array_foreach (f, i, v)
		if (sk_streq(json_string_value(v), finalizer))
			return true;
	return false;
}

void api_meta_add_finalizer(json_t *obj, const char *finalizer)
{
	json_t *f;

	if (api_meta_has_finalizer(obj, finalizer))
		return;
	f = api_get(obj, "metadata.finalizers");
	if (!json_is_array(f)) {
		f = json_array();
		api_set(obj, "metadata.finalizers", f);
	}
	json_array_append_new(f, json_string(finalizer));
}

bool api_meta_remove_finalizer(json_t *obj, const char *finalizer)
{
	json_t *f = api_get(obj, "metadata.finalizers");
	bool found = false;

	for (size_t i = 0; i < json_array_size(f);) {
		if (sk_streq(json_string_value(json_array_get(f, i)), finalizer)) {
			json_array_remove(f, i);
			found = true;
		} else {
			i++;
		}
	}
	if (found && json_array_size(f) == 0)
		api_del(obj, "metadata.finalizers");
	return found;
}

json_t *api_meta_owner_refs(json_t *obj)
{
	json_t *o = api_get(obj, "metadata.ownerReferences");

	return json_is_array(o) ? o : NULL;
}

json_t *api_meta_controller_ref(json_t *obj)
{
	json_t *refs = api_meta_owner_refs(obj), *r;
	size_t i;

	json_array_foreach (refs, i, r)
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	return NULL;
}

bool api_meta_is_owned_by(json_t *obj, const char *owner_uid)
{
	json_t *refs = api_meta_owner_refs(obj), *r;
	size_t i;

	json_array_foreach (refs, i, r)
		if (sk_streq(json_string_value(json_object_get(r, "uid")), owner_uid))
			return true;
	return false;
}

json_t *api_owner_ref_new(json_t *owner, bool controller, bool block_owner_deletion)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b}", "apiVersion",
			 api_get_str(owner, "apiVersion"), "kind", api_get_str(owner, "kind"),
			 "name", api_meta_name(owner), "uid", api_meta_uid(owner), "controller",
			 controller, "blockOwnerDeletion", block_owner_deletion);
}

json_t *api_partial_metadata(json_t *obj)
{
	json_t *meta = api_get(obj, "metadata");

	return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
			 "meta.k8s.io/v1", "metadata",
			 json_is_object(meta) ? json_incref(meta) : json_object());
}

/* ---- builders ------------------------------------------------------------ */

json_t *api_list_new(const api_kind *k, json_t *items, const char *rv)
{
	json_t *list = json_object();
	json_t *meta = json_object();

	json_object_set_new(list, "kind", json_string(k->list_kind));
	json_object_set_new(list, "apiVersion", json_string(k->api_version));
	if (rv)
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	json_object_set_new(list, "metadata", meta);
	json_object_set_new(list, "items", items ? json_incref(items) : json_array());
	return list;
}

json_t *api_scale_of(json_t *obj)
{
	json_t *scale = json_object(), *meta = json_object();
	static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
					   "creationTimestamp"};
	_cleanup_selector_ api_selector *sel = NULL;
	_cleanup_free_ char *selstr = NULL;
	json_t *src = api_get(obj, "metadata");

	json_object_set_new(scale, "kind", json_string("Scale"));
	json_object_set_new(scale, "apiVersion", json_string("autoscaling/v1"));
	for (size_t i = 0; i < SK_ARRAY_SIZE(keep); i++) {
		json_t *v = json_object_get(src, keep[i]);
		if (v)
			json_object_set(meta, keep[i], v);
	}
	json_object_set_new(scale, "metadata", meta);
	json_object_set_new(
		scale, "spec",
		json_pack("{s:I}", "replicas", (json_int_t)api_get_int(obj, "spec.replicas", 0)));
	if (api_label_selector_from_json(api_get(obj, "spec.selector"), &sel, NULL) == 0)
		selstr = api_selector_string(sel, NULL);
	json_object_set_new(scale, "status",
			    json_pack("{s:I, s:s}", "replicas",
				      (json_int_t)api_get_int(obj, "status.replicas", 0),
				      "selector", selstr ? selstr : ""));
	return scale;
}

/* Deep equality, skipping the metadata fields that change on every write
 * without changing the object. */
bool api_semantic_equal(json_t *a, json_t *b)
{
	json_t *ca, *cb;
	bool eq;

	if (!json_is_object(a) || !json_is_object(b))
		return json_equal(a, b);
	ca = json_deep_copy(a);
	cb = json_deep_copy(b);
	api_del(ca, "metadata.resourceVersion");
	api_del(cb, "metadata.resourceVersion");
	api_del(ca, "metadata.managedFields");
	api_del(cb, "metadata.managedFields");
	eq = json_equal(ca, cb);
	json_decref(ca);
	json_decref(cb);
	return eq;
}
