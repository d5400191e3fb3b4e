/* Strategic merge patch, applied (server side) and computed three-way
 * (kubectl's client-side apply), following apimachinery's
 * util/strategicpatch step by step. Where Go reads patch strategies from
 * struct tags, a small schema table below says, for the kinds skiff
 * serves, which lists merge and by which key. Fields the table does not
 * know merge as plain JSON (maps recurse, lists are replaced). */
#include "api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define DELETE_PRIMITIVE "$deleteFromPrimitiveList"
#define SET_ORDER "$setElementOrder"

/* ---- the patch schema ----------------------------------------------------- */

enum strategy { S_PLAIN, S_MERGE, S_REPLACE };

struct smp_type;
struct smp_field {
	const char *name;
	const struct smp_type *type; /* a map's own type, or a list's element type */
	enum strategy strategy;
	const char *key; /* merge key of a list of maps; NULL for a set of primitives */
	bool retain;	 /* the retainKeys strategy */
};
struct smp_type {
	const struct smp_field *fields;
	size_t n;
};

#define TYPE(name, ...)                                                \
	static const struct smp_field name##_fields[] = {__VA_ARGS__}; \
	static const struct smp_type name = {name##_fields, SK_ARRAY_SIZE(name##_fields)}

TYPE(T_META, {"finalizers", NULL, S_MERGE, NULL, false},
     {"ownerReferences", NULL, S_MERGE, "uid", false});
TYPE(T_CONTAINER, {"ports", NULL, S_MERGE, "containerPort", false},
     {"env", NULL, S_MERGE, "name", false}, {"volumeMounts", NULL, S_MERGE, "mountPath", false},
     {"volumeDevices", NULL, S_MERGE, "devicePath", false});
TYPE(T_PODSPEC, {"containers", &T_CONTAINER, S_MERGE, "name", false},
     {"initContainers", &T_CONTAINER, S_MERGE, "name", false},
     {"ephemeralContainers", &T_CONTAINER, S_MERGE, "name", false},
     {"volumes", NULL, S_MERGE, "name", true}, {"imagePullSecrets", NULL, S_MERGE, "name", false},
     {"hostAliases", NULL, S_MERGE, "ip", false},
     {"topologySpreadConstraints", NULL, S_MERGE, "topologyKey", false},
     {"schedulingGates", NULL, S_MERGE, "name", false},
     {"resourceClaims", NULL, S_MERGE, "name", true});
TYPE(T_CONDSTATUS, {"conditions", NULL, S_MERGE, "type", false});
TYPE(T_PODSTATUS, {"conditions", NULL, S_MERGE, "type", false},
     {"podIPs", NULL, S_MERGE, "ip", false}, {"hostIPs", NULL, S_MERGE, "ip", false});
TYPE(T_TEMPLATE, {"metadata", &T_META, S_PLAIN, NULL, false},
     {"spec", &T_PODSPEC, S_PLAIN, NULL, false});
TYPE(T_DEPLOYSPEC, {"template", &T_TEMPLATE, S_PLAIN, NULL, false},
     {"strategy", NULL, S_PLAIN, NULL, true});
TYPE(T_RSSPEC, {"template", &T_TEMPLATE, S_PLAIN, NULL, false});
TYPE(T_SVCSPEC, {"ports", NULL, S_MERGE, "port", false});
TYPE(T_NODESPEC, {"podCIDRs", NULL, S_MERGE, NULL, false});
TYPE(T_NODESTATUS, {"conditions", NULL, S_MERGE, "type", false},
     {"addresses", NULL, S_MERGE, "type", false});
TYPE(T_POD, {"metadata", &T_META, S_PLAIN, NULL, false}, {"spec", &T_PODSPEC, S_PLAIN, NULL, false},
     {"status", &T_PODSTATUS, S_PLAIN, NULL, false});
TYPE(T_DEPLOY, {"metadata", &T_META, S_PLAIN, NULL, false},
     {"spec", &T_DEPLOYSPEC, S_PLAIN, NULL, false},
     {"status", &T_CONDSTATUS, S_PLAIN, NULL, false});
TYPE(T_RS, {"metadata", &T_META, S_PLAIN, NULL, false}, {"spec", &T_RSSPEC, S_PLAIN, NULL, false},
     {"status", &T_CONDSTATUS, S_PLAIN, NULL, false});
TYPE(T_SVC, {"metadata", &T_META, S_PLAIN, NULL, false}, {"spec", &T_SVCSPEC, S_PLAIN, NULL, false},
     {"status", &T_CONDSTATUS, S_PLAIN, NULL, false});
TYPE(T_NODE, {"metadata", &T_META, S_PLAIN, NULL, false},
     {"spec", &T_NODESPEC, S_PLAIN, NULL, false}, {"status", &T_NODESTATUS, S_PLAIN, NULL, false});
TYPE(T_WITH_CONDS, {"metadata", &T_META, S_PLAIN, NULL, false},
     {"status", &T_CONDSTATUS, S_PLAIN, NULL, false});
TYPE(T_GENERIC, {"metadata", &T_META, S_PLAIN, NULL, false});

static const struct smp_type *type_of(const api_kind *k)
{
	if (!k)
		return NULL;
	if (!strcmp(k->kind, "Pod"))
		return &T_POD;
	if (!strcmp(k->kind, "Deployment"))
		return &T_DEPLOY;
	if (!strcmp(k->kind, "ReplicaSet"))
		return &T_RS;
	if (!strcmp(k->kind, "Service"))
		return &T_SVC;
	if (!strcmp(k->kind, "Node"))
		return &T_NODE;
	if (!strcmp(k->kind, "Namespace") || !strcmp(k->kind, "PersistentVolumeClaim") ||
	    !strcmp(k->kind, "PersistentVolume"))
		return &T_WITH_CONDS;
	return &T_GENERIC;
}

static const struct smp_field *lookup(const struct smp_type *t, const char *key)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!strcmp(t->fields[i].name, key))
			return &t->fields[i];
	return NULL;
}

/* ---- values as Go sees them ---------------------------------------------- */

enum jt { JT_NULL, JT_OBJ, JT_ARR, JT_STR, JT_INT, JT_REAL, JT_BOOL };

static enum jt jtype(json_t *j)
{
	if (!j)
		return JT_NULL;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return JT_OBJ;
	case JSON_ARRAY:
		return JT_ARR;
	case JSON_STRING:
		return JT_STR;
	case JSON_INTEGER:
		return JT_INT;
	case JSON_REAL:
		return JT_REAL;
	case JSON_TRUE:
	case JSON_FALSE:
		return JT_BOOL;
	default:
		return JT_NULL;
	}
}

/* fmt.Sprintf("%v") of a decoded JSON value, which Go uses to sort and
 * compare list elements and merge keys, and prints in its errors: maps as
 * map[k:v ...] with sorted keys, lists as [a b]. */
static void go_v_into(sk_buf *b, json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > API_MAX_DEPTH) {
		sk_buf_puts(b, "...");
		return;
	}
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_STRING:
		sk_buf_puts(b, json_string_value(j));
		break;
	case JSON_INTEGER:
		sk_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL:
		sk_buf_printf(b, "%.15g", json_real_value(j));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		sk_buf_puts(b, json_is_true(j) ? "true" : "false");
		break;
	case JSON_NULL:
		sk_buf_puts(b, "<nil>");
		break;
	case JSON_ARRAY:
		sk_buf_putc(b, '[');
		json_array_foreach (j, i, v) {
			if (i)
				sk_buf_putc(b, ' ');
			go_v_into(b, v, depth + 1);
		}
		sk_buf_putc(b, ']');
		break;
	case JSON_OBJECT: {
		json_t *keys = json_array();
		json_object_foreach (j, key, v)
			json_array_append_new(keys, json_string(key));
		for (size_t a = 1; a < json_array_size(keys); a++)
			for (size_t c = a;
			     c > 0 && strcmp(json_string_value(json_array_get(keys, c)),
					     json_string_value(json_array_get(keys, c - 1))) < 0;
			     c--) {
				json_t *t = json_incref(json_array_get(keys, c));
				json_array_set(keys, c, json_array_get(keys, c - 1));
				json_array_set_new(keys, c - 1, t);
			}
		sk_buf_puts(b, "map[");
		json_array_foreach (keys, i, v) {
			sk_buf_printf(b, "%s%s:", i ? " " : "", json_string_value(v));
			go_v_into(b, json_object_get(j, json_string_value(v)), depth + 1);
		}
		sk_buf_putc(b, ']');
		json_decref(keys);
		break;
	}
	}
}

static char *go_v(json_t *j)
{
	sk_buf b = {0};

	go_v_into(&b, j, 0);
	return sk_buf_steal(&b);
}

/* Go's == on interface values: same dynamic type and value. */
static bool go_eq(json_t *a, json_t *b)
{
	if (!a || !b)
		return a == b;
	return jtype(a) == jtype(b) && json_equal(a, b);
}

struct smp {
	bool parallel;	   /* MergeParallelList: applying a patch (server side) */
	bool ignore_nulls; /* IgnoreUnmatchedNulls */
	int depth;
	sk_err *err;
};

struct diffopts {
	bool set_order, ignore_ca, ignore_del, build_retain;
};

#define bad(s, ...) sk_err_set((s)->err, EINVAL, __VA_ARGS__)

/* mergepatch.ErrNoMergeKey */
static int no_merge_key(struct smp *s, json_t *item, const char *key)
{
	_cleanup_free_ char *m = go_v(item);

	return bad(s, "map: %s does not contain declared merge key: %s", m, key);
}

/* The common element type of two lists (sliceElementType); -1 with an
 * error for mixed types or lists of lists, JT_NULL for no elements. */
static int elem_type(struct smp *s, json_t *a, json_t *b, enum jt *out)
{
	json_t *lists[2] = {a, b}, *v;
	bool have = false;
	size_t i;

	*out = JT_NULL;
	for (int l = 0; l < 2; l++) {
		json_array_foreach (lists[l], i, v) {
			enum jt t = jtype(v);
			if (!have) {
				if (t == JT_ARR)
					return bad(s, "lists of lists are not supported");
				*out = t;
				have = true;
			} else if (t != *out) {
				return bad(s, "list element types are not identical");
			}
		}
	}
	return 0;
}

static json_t *mkey(json_t *item, const char *key)
{
	return json_is_object(item) ? json_object_get(item, key) : NULL;
}

/* index(): position of val in list by merge key (maps) or value. */
static ssize_t list_index(json_t *list, json_t *val, const char *key, enum jt kind)
{
	json_t *v;
	size_t i;

	json_array_foreach (list, i, v) {
		if (kind == JT_OBJ) {
			json_t *a = mkey(val, key), *b = mkey(v, key);
			if ((!a && !b) || go_eq(a, b))
				return (ssize_t)i;
		} else if (go_eq(val, v)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

static bool is_delete_item(json_t *v)
{
	return sk_streq(json_string_value(json_object_get(v, DIRECTIVE)), "delete");
}

/* normalizeSliceOrder: order toSort by the positions in `order`, deletion
 * directives last. Go sorts with sort.SliceStable and a comparator that
 * says "less" whenever an item is not in `order`; an insertion sort with
 * the same comparator gives Go's result (Go's stable sort is an insertion
 * sort for up to 20 items, and exact for consistent comparators). */
static json_t *normalize_slice_order(struct smp *s, json_t *to_sort, json_t *order, const char *key,
				     enum jt kind)
{
	json_t *keep = json_array(), *del = json_array(), *v;
	size_t i, n;

	if (kind == JT_OBJ) {
		json_t *lists[2] = {to_sort, order};
		for (int l = 0; l < 2; l++) {
			json_array_foreach (lists[l], i, v) {
				if (!json_is_object(v) || !json_object_get(v, key)) {
					json_decref(keep);
					json_decref(del);
					no_merge_key(s, v, key);
					return NULL;
				}
			}
		}
	}
	json_array_foreach (to_sort, i, v)
		json_array_append(kind == JT_OBJ && is_delete_item(v) ? del : keep, v);
	n = json_array_size(keep);
	for (size_t a = 1; a < n; a++) {
		for (size_t j = a; j > 0; j--) {
			json_t *x = json_array_get(keep, j), *y = json_array_get(keep, j - 1);
			ssize_t ix = list_index(order, x, key, kind),
				iy = list_index(order, y, key, kind);
			bool less = ix >= 0 && iy >= 0 ? ix < iy : true;
			if (!less)
				break;
			json_incref(x);
			json_array_set(keep, j, y);
			json_array_set_new(keep, j - 1, x);
		}
	}
	json_array_extend(keep, del);
	json_decref(del);
	return keep;
}

/* mergeSortedSlice: interleave server-only items (left) into the patch
 * items (right) following the live order where both are known. */
static json_t *merge_sorted(json_t *left, json_t *right, json_t *server_order, const char *key,
			    enum jt kind)
{
	size_t nl = json_array_size(left), nr = json_array_size(right), i = 0, j = 0;
	json_t *out = json_array();

	for (size_t k = 0; k < nl + nr; k++) {
		if (i >= nl && j < nr) {
			json_array_append(out, json_array_get(right, j++));
		} else if (j >= nr && i < nl) {
			json_array_append(out, json_array_get(left, i++));
		} else {
			ssize_t li = list_index(server_order, json_array_get(left, i), key, kind);
			ssize_t ri = list_index(server_order, json_array_get(right, j), key, kind);
			if (li >= 0 && ri >= 0 && li < ri)
				json_array_append(out, json_array_get(left, i++));
			else
				json_array_append(out, json_array_get(right, j++));
		}
	}
	return out;
}

static json_t *normalize_element_order(struct smp *s, json_t *patch, json_t *server_only,
				       json_t *patch_order, json_t *server_order, const char *key,
				       enum jt kind)
{
	json_t *p = normalize_slice_order(s, patch, patch_order, key, kind);
	json_t *so, *all;

	if (!p)
		return NULL;
	so = normalize_slice_order(s, server_only, server_order, key, kind);
	if (!so) {
		json_decref(p);
		return NULL;
	}
	all = merge_sorted(so, p, server_order, key, kind);
	json_decref(p);
	json_decref(so);
	return all;
}

/* Split merged into the items present in `by` and the server-only rest. */
static int partition(struct smp *s, json_t *merged, json_t *by, const char *key, json_t **in,
		     json_t **out)
{
	json_t *v;
	size_t i;

	*in = json_array();
	*out = json_array();
	json_array_foreach (merged, i, v) {
		bool found;
		if (key) {
			json_t *kv = mkey(v, key), *b;
			size_t bi;
			if (!kv) {
				json_decref(*in);
				json_decref(*out);
				return no_merge_key(s, v, key);
			}
			found = false;
			json_array_foreach (by, bi, b)
				if (go_eq(mkey(b, key), kv))
					found = true;
		} else {
			found = list_index(by, v, NULL, JT_STR) >= 0;
		}
		json_array_append(found ? *in : *out, v);
	}
	return 0;
}

/* ---- applying a patch (mergeMap and friends) ----------------------------- */

static int merge_map(struct smp *s, json_t **orig, json_t *patch, const struct smp_type *t);
static bool remove_directives(json_t *j, int depth);

static json_t *delete_from_slice(json_t *cur, json_t *del)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach (cur, i, v)
		if (list_index(del, v, NULL, JT_STR) < 0)
			json_array_append(out, v);
	return out;
}

/* Handle {"$patch": ...} elements of a merging list of maps; *o and *p
 * are replaced by the list to merge into and the plain patch items. */
static int special_elements(struct smp *s, json_t **o, json_t **p, json_t *patch, const char *key)
{
	json_t *plain = json_array(), *v;
	bool replace = false;
	size_t i;

	json_array_foreach (patch, i, v) {
		json_t *d = json_object_get(v, DIRECTIVE);
		const char *ds = json_string_value(d);
		if (!d) {
			json_array_append(plain, v);
		} else if (sk_streq(ds, "delete")) {
			json_t *kv = json_object_get(v, key);
			if (!kv) {
				json_decref(plain);
				return no_merge_key(s, v, key);
			}
			for (size_t j = 0; j < json_array_size(*o);) {
				if (go_eq(mkey(json_array_get(*o, j), key), kv))
					json_array_remove(*o, j);
				else
					j++;
			}
		} else if (sk_streq(ds, "replace")) {
			replace = true;
		} else if (sk_streq(ds, "merge")) {
			json_decref(plain);
			return bad(s, "merging lists cannot yet be specified in the patch");
		} else {
			json_decref(plain);
			_cleanup_free_ char *m = go_v(v), *dv = go_v(d);
			return bad(s, "unknown patch type: %s in map: %s", dv, m);
		}
	}
	if (replace) {
		json_decref(*o);
		*o = plain;
		*p = json_array();
	} else {
		*p = plain;
	}
	return 0;
}

/* mergeSlice: merge two lists of a field with the merge strategy. */
static json_t *merge_slice(struct smp *s, json_t *orig, json_t *patch, const struct smp_field *f,
			   bool delete_list)
{
	json_t *merged, *o, *p = NULL, *server_order, *in, *out, *res;
	enum jt kind;
	size_t i;
	json_t *v;

	if (json_array_size(orig) == 0 && json_array_size(patch) == 0)
		return json_incref(orig);
	if (elem_type(s, orig, patch, &kind) < 0)
		return NULL;
	if (kind != JT_OBJ) {
		if (s->parallel && delete_list)
			return delete_from_slice(orig, patch);
		merged = json_array();
		json_array_foreach (orig, i, v)
			if (list_index(merged, v, NULL, JT_STR) < 0)
				json_array_append(merged, v);
		json_array_foreach (patch, i, v)
			if (list_index(merged, v, NULL, JT_STR) < 0)
				json_array_append(merged, v);
		server_order = json_incref(orig);
		p = json_incref(patch);
	} else {
		if (!f->key) {
			bad(s, "cannot merge lists without merge key for type map");
			return NULL;
		}
		o = json_array();
		json_array_extend(o, orig);
		if (special_elements(s, &o, &p, patch, f->key) < 0) {
			json_decref(o);
			return NULL;
		}
		server_order = json_array();
		json_array_extend(server_order, o);
		merged = o;
		json_array_foreach (p, i, v) {
			json_t *kv = json_object_get(v, f->key);
			ssize_t at;
			if (!json_is_object(v) || !kv) {
				no_merge_key(s, v, f->key);
				goto fail;
			}
			at = list_index(merged, v, f->key, JT_OBJ);
			if (at >= 0) {
				json_t *sub = json_incref(json_array_get(merged, (size_t)at));
				if (merge_map(s, &sub, v, f->type) < 0) {
					json_decref(sub);
					goto fail;
				}
				json_array_set_new(merged, (size_t)at, sub);
			} else {
				json_array_append(merged, v);
			}
		}
	}
	if (partition(s, merged, p, kind == JT_OBJ ? f->key : NULL, &in, &out) < 0)
		goto fail;
	res = normalize_element_order(s, in, out, p, server_order, kind == JT_OBJ ? f->key : NULL,
				      kind);
	json_decref(in);
	json_decref(out);
	json_decref(merged);
	json_decref(p);
	json_decref(server_order);
	return res;
fail:
	json_decref(merged);
	json_decref(p);
	json_decref(server_order);
	return NULL;
}

static json_t *merge_slice_handler(struct smp *s, json_t *orig, json_t *patch,
				   const struct smp_field *f, bool delete_list)
{
	if (f && f->strategy == S_MERGE)
		return merge_slice(s, orig, patch, f, delete_list);
	return json_incref(patch);
}

static int retain_keys(struct smp *s, json_t *orig, json_t *patch)
{
	json_t *rk = json_object_get(patch, RETAIN_KEYS);
	const char *key;
	json_t *v, *tmp;
	int ret = 0;

	if (!rk)
		return 0;
	json_incref(rk);
	json_object_del(patch, RETAIN_KEYS);
	if (!s->parallel) {
		json_t *ork = json_object_get(orig, RETAIN_KEYS);
		if (ork && !json_equal(ork, rk))
			ret = bad(s, "$retainKeys lists differ");
		else if (!ork)
			json_object_set(orig, RETAIN_KEYS, rk);
		json_decref(rk);
		return ret;
	}
	if (!json_is_array(rk)) {
		json_decref(rk);
		return bad(s, "invalid patch format of retainKeys");
	}
	json_object_foreach (patch, key, v) {
		json_t *want = json_string(key);
		bool listed = list_index(rk, want, NULL, JT_STR) >= 0;
		json_decref(want);
		if (json_is_null(v) || sk_startswith(key, DELETE_PRIMITIVE) ||
		    sk_startswith(key, SET_ORDER) || listed)
			continue;
		json_decref(rk);
		return bad(s, "invalid patch format of retainKeys");
	}
	json_object_foreach_safe (orig, tmp, key, v) {
		json_t *want = json_string(key);
		if (list_index(rk, want, NULL, JT_STR) < 0)
			json_object_del(orig, key);
		json_decref(want);
	}
	json_decref(rk);
	return 0;
}

/* "$setElementOrder/containers" -> "containers". */
static const char *directive_key(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0 || s[n] != '/')
		return NULL;
	return s + n + 1;
}

/* validatePatchWithSetOrderList: the patch list's items appear in the
 * $setElementOrder list in the same relative order. */
static int check_order(struct smp *s, json_t *plist, json_t *order, const char *key)
{
	size_t pi = 0, oi = 0, np;
	json_t *nd = json_array(), *v;
	size_t i;

	if (json_array_size(order) == 0 || json_array_size(plist) == 0) {
		json_decref(nd);
		return 0;
	}
	json_array_foreach (plist, i, v) {
		if (key && !json_is_object(v)) {
			json_decref(nd);
			return bad(s, "a merging list of %s must hold maps", key);
		}
		if (!key || !is_delete_item(v))
			json_array_append(nd, v);
	}
	np = json_array_size(nd);
	while (pi < np && oi < json_array_size(order)) {
		json_t *a = json_array_get(nd, pi), *b = json_array_get(order, oi);
		if (json_object_get(a, DIRECTIVE)) {
			pi++;
			continue;
		}
		if (key && (!mkey(a, key) || !mkey(b, key))) {
			int r = no_merge_key(s, mkey(a, key) ? b : a, key);
			json_decref(nd);
			return r;
		}
		if (key ? go_eq(mkey(a, key), mkey(b, key)) : go_eq(a, b))
			pi++;
		oi++;
	}
	json_decref(nd);
	if (pi < np) {
		_cleanup_free_ char *a = go_v(plist), *b = go_v(order);
		return bad(s, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n", a,
			   SET_ORDER, b);
	}
	return 0;
}

static int apply_one_order(struct smp *s, json_t *orig, json_t *patch, const char *dkey,
			   json_t *order, const struct smp_type *t)
{
	const char *k = directive_key(dkey, SET_ORDER);
	json_t *olist, *plist, *merged, *in, *out, *both;
	const struct smp_field *f;
	const char *key;
	enum jt kind;

	if (!k || !json_is_array(order))
		return bad(s, "invalid patch format of setElementOrder list");
	olist = json_object_get(orig, k);
	plist = json_object_get(patch, k);
	if ((olist && !json_is_array(olist)) || (plist && !json_is_array(plist)))
		return bad(s, "%s must be a list to be ordered", k);
	f = lookup(t, k);
	key = f && f->strategy == S_MERGE ? f->key : NULL;
	if (check_order(s, plist, order, key) < 0)
		return -1;
	if (olist && !plist)
		merged = json_incref(olist);
	else if (!olist && plist) {
		merged = json_incref(plist);
		remove_directives(merged, 0);
	} else if (olist && plist)
		merged = merge_slice_handler(s, olist, plist, f, false);
	else
		return 0;
	if (!merged)
		return -1;
	if (elem_type(s, olist, plist, &kind) < 0 ||
	    partition(s, merged, order, key, &in, &out) < 0) {
		json_decref(merged);
		return -1;
	}
	{
		json_t *empty = json_array();
		both = normalize_element_order(s, in, out, order, olist ? olist : empty, key, kind);
		json_decref(empty);
	}
	json_decref(in);
	json_decref(out);
	json_decref(merged);
	if (!both)
		return -1;
	json_object_set_new(orig, k, both);
	json_object_del(patch, k);
	return 0;
}

/* mergePatchIntoOriginal: the $setElementOrder directives. */
static int set_element_order(struct smp *s, json_t *orig, json_t *patch, const struct smp_type *t)
{
	_cleanup_strv_ char **keys = NULL;
	const char *key;
	json_t *v;

	json_object_foreach (patch, key, v)
		if (sk_startswith(key, SET_ORDER))
			keys = sk_strv_push(keys, key);
	for (size_t i = 0; keys && keys[i]; i++) {
		json_t *order = json_incref(json_object_get(patch, keys[i]));
		int ret = 0;
		if (!s->parallel) {
			json_t *o = json_object_get(orig, keys[i]);
			if (o && !json_equal(o, order))
				ret = bad(s, "invalid patch format of setElementOrder list");
			else if (!o)
				json_object_set(orig, keys[i], order);
		}
		json_object_del(patch, keys[i]);
		if (ret == 0)
			ret = apply_one_order(s, orig, patch, keys[i], order, t);
		json_decref(order);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* discardNullValuesFromPatch */
static void discard_nulls(json_t *j, int depth)
{
	const char *key;
	json_t *v, *tmp;
	size_t i;

	if (depth > API_MAX_DEPTH * 4)
		return;
	if (json_is_object(j)) {
		json_object_foreach_safe (j, tmp, key, v) {
			if (json_is_null(v))
				json_object_del(j, key);
			else
				discard_nulls(v, depth + 1);
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			discard_nulls(v, depth + 1);
	}
}

/* removeDirectives: a patch value taken as is loses every map that
 * carries "$patch" (at any depth); false when the value itself is one. */
static bool remove_directives(json_t *j, int depth)
{
	const char *key;
	json_t *v, *tmp;

	if (depth > API_MAX_DEPTH * 4)
		return true;
	if (json_is_object(j)) {
		if (json_object_get(j, DIRECTIVE))
			return false;
		json_object_foreach_safe (j, tmp, key, v)
			if (!remove_directives(v, depth + 1))
				json_object_del(j, key);
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j);) {
			if (remove_directives(json_array_get(j, i), depth + 1))
				i++;
			else
				json_array_remove(j, i);
		}
	}
	return true;
}

/* Set orig[k] to a patch value taken as is. */
static void take_value(struct smp *s, json_t *orig, const char *k, json_t *pv)
{
	if (s->ignore_nulls)
		discard_nulls(pv, 0);
	if (remove_directives(pv, 0))
		json_object_set(orig, k, pv);
	else
		json_object_del(orig, k);
}

static int merge_entry(struct smp *s, json_t *orig, const char *key, json_t *pv,
		       const struct smp_type *t)
{
	const char *k = key;
	bool delete_list = false;
	const struct smp_field *f;
	json_t *ov, *merged;

	if (sk_startswith(key, DELETE_PRIMITIVE)) {
		if (!s->parallel) {
			json_object_set(orig, key, pv);
			return 0;
		}
		k = directive_key(key, DELETE_PRIMITIVE);
		if (!k)
			return bad(s, "invalid patch format of primitive list");
		delete_list = true;
	}
	if (json_is_null(pv)) {
		json_object_del(orig, k);
		if (s->ignore_nulls)
			return 0;
	}
	ov = json_object_get(orig, k);
	if (!ov || jtype(ov) != jtype(pv)) {
		/* A new value: nothing to delete from, nothing for its nulls
		 * to delete, no list for its directives to act on. */
		if (!delete_list)
			take_value(s, orig, k, pv);
		return 0;
	}
	f = lookup(t, k);
	if (json_is_object(ov)) {
		if (f && f->strategy == S_REPLACE) {
			json_object_set(orig, k, pv);
			return 0;
		}
		merged = json_incref(ov);
		if (merge_map(s, &merged, pv, f ? f->type : NULL) < 0) {
			json_decref(merged);
			return -1;
		}
		json_object_set_new(orig, k, merged);
		return 0;
	}
	if (json_is_array(ov)) {
		merged = merge_slice_handler(s, ov, pv, f, delete_list);
		if (!merged)
			return -1;
		json_object_set_new(orig, k, merged);
		return 0;
	}
	take_value(s, orig, k, pv);
	return 0;
}

static int merge_map(struct smp *s, json_t **origp, json_t *patch, const struct smp_type *t)
{
	json_t *d = json_object_get(patch, DIRECTIVE);
	_cleanup_strv_ char **keys = NULL;
	const char *key;
	json_t *v;
	int ret = 0;

	if (d) {
		if (sk_streq(json_string_value(d), "replace")) {
			json_object_del(patch, DIRECTIVE);
			json_decref(*origp);
			*origp = json_incref(patch);
			return 0;
		}
		if (sk_streq(json_string_value(d), "delete")) {
			json_decref(*origp);
			*origp = json_object();
			return 0;
		}
		_cleanup_free_ char *m = go_v(patch), *dv = go_v(d);
		return bad(s, "unknown patch type: %s in map: %s", dv, m);
	}
	if (++s->depth > API_MAX_DEPTH * 2) {
		s->depth--;
		return sk_err_set(s->err, E2BIG, "patch is nested too deeply");
	}
	if (retain_keys(s, *origp, patch) < 0 || set_element_order(s, *origp, patch, t) < 0) {
		s->depth--;
		return -1;
	}
	/* Go visits the keys in random order; deletion lists go first here,
	 * which is one of its orders and what clients mean. */
	json_object_foreach (patch, key, v)
		if (sk_startswith(key, DELETE_PRIMITIVE))
			keys = sk_strv_push(keys, key);
	json_object_foreach (patch, key, v)
		if (!sk_startswith(key, DELETE_PRIMITIVE))
			keys = sk_strv_push(keys, key);
	for (size_t i = 0; keys && keys[i] && ret == 0; i++) {
		json_t *pv = json_object_get(patch, keys[i]);
		if (pv)
			ret = merge_entry(s, *origp, keys[i], pv, t);
	}
	s->depth--;
	return ret;
}

/* The apiserver decodes the patched map into its Go type, which drops
 * directive keys a patch left where the original had nothing to merge
 * into; skiff keeps unknown fields, so it drops them explicitly. */
static void strip_directives(json_t *j, int depth)
{
	const char *key;
	json_t *v, *tmp;
	size_t i;

	if (depth > API_MAX_DEPTH * 4)
		return;
	if (json_is_object(j)) {
		json_object_foreach_safe (j, tmp, key, v) {
			if (!strcmp(key, DIRECTIVE) || !strcmp(key, RETAIN_KEYS) ||
			    sk_startswith(key, SET_ORDER "/") ||
			    sk_startswith(key, DELETE_PRIMITIVE "/"))
				json_object_del(j, key);
			else
				strip_directives(v, depth + 1);
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			strip_directives(v, depth + 1);
	}
}

int api_strategic_merge_patch(const api_kind *k, json_t *doc, json_t *patch, json_t **out,
			      sk_err *err)
{
	struct smp s = {true, true, 0, err};
	json_t *o, *p;

	if (!json_is_object(patch))
		return sk_err_set(err, EINVAL,
				  "invalid strategic merge patch: it must be an object");
	o = json_is_object(doc) ? json_deep_copy(doc) : json_object();
	p = json_deep_copy(patch);
	if (merge_map(&s, &o, p, type_of(k)) < 0) {
		json_decref(o);
		json_decref(p);
		return -1;
	}
	json_decref(p);
	strip_directives(o, 0);
	*out = o;
	return 0;
}

/* ---- computing a patch (diffMaps and friends) ----------------------------- */

static json_t *diff_maps(struct smp *s, json_t *orig, json_t *mod, const struct smp_type *t,
			 struct diffopts o);

static int cmp_go_v(json_t *a, json_t *b, const char *key)
{
	_cleanup_free_ char *sa = go_v(key ? mkey(a, key) : a);
	_cleanup_free_ char *sb = go_v(key ? mkey(b, key) : b);

	return strcmp(sa ? sa : "", sb ? sb : "");
}

/* A copy of list sorted by the %v string of its items or merge keys. */
static json_t *sorted_copy(json_t *list, const char *key)
{
	json_t *out = json_array();
	size_t n;

	json_array_extend(out, list);
	n = json_array_size(out);
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			json_t *x = json_array_get(out, j), *y = json_array_get(out, j - 1);
			if (cmp_go_v(x, y, key) >= 0)
				break;
			json_incref(x);
			json_array_set(out, j, y);
			json_array_set_new(out, j - 1, x);
		}
	}
	return out;
}

static void diff_scalars(json_t *orig_sorted, json_t *mod, struct diffopts o, json_t *add,
			 json_t *del)
{
	json_t *ms = sorted_copy(mod, NULL);
	size_t oi = 0, mi = 0, no = json_array_size(orig_sorted), nm = json_array_size(ms);

	while (oi < no || mi < nm) {
		json_t *ov = json_array_get(orig_sorted, oi), *mv = json_array_get(ms, mi);
		int c = oi < no && mi < nm ? cmp_go_v(ov, mv, NULL) : (oi < no ? -1 : 1);
		if (c == 0) {
			oi++;
			mi++;
		} else if (c < 0) {
			if (!o.ignore_del && list_index(del, ov, NULL, JT_STR) < 0)
				json_array_append(del, ov);
			oi++;
		} else {
			if (!o.ignore_ca)
				json_array_append(add, mv);
			mi++;
		}
	}
	json_decref(ms);
}

static int diff_maps_list(struct smp *s, json_t *orig, json_t *mod, const struct smp_type *t,
			  const char *key, struct diffopts o, json_t *patch, json_t *del)
{
	json_t *os = sorted_copy(orig, key), *ms = sorted_copy(mod, key);
	size_t oi = 0, mi = 0, no = json_array_size(os), nm = json_array_size(ms);
	int ret = 0;

	for (size_t i = 0; i < no + nm && ret == 0; i++) {
		json_t *a = json_array_get(os, i < no ? i : 0),
		       *b = json_array_get(ms, i < nm ? i : 0);
		if (i < no && !mkey(a, key))
			ret = no_merge_key(s, a, key);
		else if (i < nm && !mkey(b, key))
			ret = no_merge_key(s, b, key);
	}
	while (ret == 0 && (oi < no || mi < nm)) {
		json_t *oe = json_array_get(os, oi), *me = json_array_get(ms, mi);
		int c = oi < no && mi < nm ? cmp_go_v(oe, me, key) : (oi < no ? -1 : 1);
		if (c == 0) {
			json_t *pv = diff_maps(s, oe, me, t, o);
			if (!pv) {
				ret = -1;
				break;
			}
			if (json_object_size(pv)) {
				json_object_set(pv, key, mkey(me, key));
				json_array_append(patch, pv);
			}
			json_decref(pv);
			oi++;
			mi++;
		} else if (c > 0) {
			if (!o.ignore_ca)
				json_array_append(patch, me);
			mi++;
		} else {
			if (!o.ignore_del)
				json_array_append_new(del,
						      json_pack("{s:O, s:s}", key, mkey(oe, key),
								DIRECTIVE, "delete"));
			oi++;
		}
	}
	json_decref(os);
	json_decref(ms);
	return ret;
}

static bool order_same(json_t *orig, json_t *mod, const char *key)
{
	if (json_array_size(orig) != json_array_size(mod))
		return false;
	for (size_t i = 0; i < json_array_size(orig); i++)
		if (!go_eq(mkey(json_array_get(orig, i), key), mkey(json_array_get(mod, i), key)))
			return false;
	return true;
}

/* diffLists for a merging list: the patch list, the primitive deletion
 * list and the $setElementOrder list (each new, possibly empty). */
static int diff_lists(struct smp *s, json_t *orig, json_t *mod, const struct smp_field *f,
		      struct diffopts o, json_t **add, json_t **del, json_t **order)
{
	enum jt kind;
	json_t *patch, *v;
	size_t i;

	*add = json_array();
	*del = json_array();
	*order = json_array();
	if (json_array_size(orig) == 0) {
		if (json_array_size(mod) && !o.ignore_ca)
			json_array_extend(*add, mod);
		return 0;
	}
	if (elem_type(s, orig, mod, &kind) < 0)
		return -1;
	if (kind == JT_OBJ) {
		if (!f->key)
			return bad(s, "cannot merge lists without merge key for type map");
		patch = json_array();
		if (diff_maps_list(s, orig, mod, f->type, f->key, o, patch, *del) < 0) {
			json_decref(patch);
			return -1;
		}
		json_decref(*add);
		*add = normalize_slice_order(s, patch, mod, f->key, kind);
		json_decref(patch);
		if (!*add)
			return -1;
		bool same = order_same(orig, mod, f->key);
		json_array_extend(*add, *del);
		json_array_clear(*del);
		if (o.set_order && ((!o.ignore_ca && (json_array_size(*add) || !same)) ||
				    (!o.ignore_del && json_array_size(*add)))) {
			json_array_foreach (mod, i, v)
				json_array_append_new(*order,
						      json_pack("{s:O}", f->key, mkey(v, f->key)));
		}
		return 0;
	}
	/* Go sorts the original list in place here, so the "unchanged" test
	 * below compares the sorted original with the new list. */
	json_t *osorted = sorted_copy(orig, NULL);
	patch = json_array();
	diff_scalars(osorted, mod, o, patch, *del);
	json_decref(*add);
	*add = normalize_slice_order(s, patch, mod, NULL, kind);
	json_decref(patch);
	if (*add && o.set_order &&
	    ((!o.ignore_del && json_array_size(*del)) ||
	     (!o.ignore_ca && !json_equal(osorted, mod))))
		json_array_extend(*order, mod);
	json_decref(osorted);
	return *add ? 0 : -1;
}

static int diff_entry(struct smp *s, const char *key, json_t *ov, json_t *mv, json_t *patch,
		      const struct smp_type *t, struct diffopts o)
{
	const struct smp_field *f = lookup(t, key);

	if (json_is_object(ov)) {
		struct diffopts sub = o;
		json_t *pv;
		if (f && f->strategy == S_REPLACE) {
			if (!o.ignore_ca)
				json_object_set(patch, key, mv);
			return 0;
		}
		sub.build_retain = f && f->retain;
		pv = diff_maps(s, ov, mv, f ? f->type : NULL, sub);
		if (!pv)
			return -1;
		if (json_object_size(pv))
			json_object_set(patch, key, pv);
		json_decref(pv);
		return 0;
	}
	if (json_is_array(ov) && f && f->strategy == S_MERGE) {
		struct diffopts sub = o;
		json_t *add, *del, *order;
		sub.build_retain = f->retain;
		if (diff_lists(s, ov, mv, f, sub, &add, &del, &order) < 0) {
			json_decref(add);
			json_decref(del);
			json_decref(order);
			return -1;
		}
		if (json_array_size(add))
			json_object_set(patch, key, add);
		if (json_array_size(del)) {
			_cleanup_free_ char *dk = sk_asprintf("%s/%s", DELETE_PRIMITIVE, key);
			json_object_set(patch, dk, del);
		}
		if (json_array_size(order)) {
			_cleanup_free_ char *ok = sk_asprintf("%s/%s", SET_ORDER, key);
			json_object_set(patch, ok, order);
		}
		json_decref(add);
		json_decref(del);
		json_decref(order);
		return 0;
	}
	if (!o.ignore_ca && !json_equal(ov, mv))
		json_object_set(patch, key, mv);
	return 0;
}

static json_t *diff_maps(struct smp *s, json_t *orig, json_t *mod, const struct smp_type *t,
			 struct diffopts o)
{
	json_t *patch = json_object(), *retain = json_array(), *mv, *ov;
	const char *key;
	bool extra = false;

	if (++s->depth > API_MAX_DEPTH * 2) {
		sk_err_set(s->err, E2BIG, "object is nested too deeply");
		goto fail;
	}
	json_object_foreach (mod, key, mv) {
		if (o.build_retain && !json_is_null(mv))
			json_array_append_new(retain, json_string(key));
		ov = json_object_get(orig, key);
		if (!ov) {
			if (!o.ignore_ca)
				json_object_set(patch, key, mv);
			continue;
		}
		if (!strcmp(key, DIRECTIVE)) {
			if (!json_is_string(ov) || !json_is_string(mv)) {
				bad(s, "invalid value for special key: %s", DIRECTIVE);
				goto fail;
			}
			if (!json_equal(ov, mv))
				json_object_set(patch, key, mv);
			continue;
		}
		if (jtype(ov) != jtype(mv)) {
			if (!o.ignore_ca)
				json_object_set(patch, key, mv);
			continue;
		}
		if (diff_entry(s, key, ov, mv, patch, t, o) < 0)
			goto fail;
	}
	json_object_foreach (orig, key, ov) {
		if (json_object_get(mod, key))
			continue;
		if (!o.ignore_del)
			json_object_set_new(patch, key, json_null());
		if (!json_is_null(ov))
			extra = true;
	}
	if (json_array_size(retain) && (json_object_size(patch) || extra)) {
		json_t *sorted = sorted_copy(retain, NULL);
		json_object_set_new(patch, RETAIN_KEYS, sorted);
	}
	json_decref(retain);
	s->depth--;
	return patch;
fail:
	s->depth--;
	json_decref(patch);
	json_decref(retain);
	return NULL;
}

/* ---- kubectl apply --------------------------------------------------------- */

/* Go's encoding/json escapes <, > and & (and U+2028/9) inside strings;
 * do the same so the annotation reads byte for byte like kubectl's. */
static char *go_json(json_t *j)
{
	_cleanup_free_ char *raw = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	sk_buf b = {0};

	for (const char *p = raw; p && *p; p++) {
		if (*p == '<')
			sk_buf_puts(&b, "\\u003c");
		else if (*p == '>')
			sk_buf_puts(&b, "\\u003e");
		else if (*p == '&')
			sk_buf_puts(&b, "\\u0026");
		else if (!strncmp(p, "\xe2\x80\xa8", 3) && (p += 2))
			sk_buf_puts(&b, "\\u2028");
		else if (!strncmp(p, "\xe2\x80\xa9", 3) && (p += 2))
			sk_buf_puts(&b, "\\u2029");
		else
			sk_buf_putc(&b, *p);
	}
	return sk_buf_steal(&b);
}

json_t *api_apply_modified(json_t *config)
{
	json_t *m = json_deep_copy(config);
	json_t *ann;
	_cleanup_free_ char *enc = NULL;
	char *withnl;

	/* As kubectl: the annotations map exists (possibly empty) in the
	 * serialized configuration, which never contains itself. */
	ann = api_ensure_obj(m, "metadata.annotations");
	json_object_del(ann, API_LAST_APPLIED);
	enc = go_json(m);
	withnl = sk_asprintf("%s\n", enc);
	json_object_set_new(ann, API_LAST_APPLIED, json_string(withnl));
	free(withnl);
	return m;
}

int api_apply_patch(const api_kind *k, json_t *original, json_t *modified, json_t *live,
		    json_t **patch, sk_err *err)
{
	struct smp s = {false, false, 0, err};
	const struct smp_type *t = type_of(k);
	struct diffopts delta_opts = {true, false, true, false};
	struct diffopts del_opts = {true, true, false, false};
	json_t *empty = json_object();
	json_t *delta, *dels;

	if (!json_is_object(modified) || (live && !json_is_object(live)) ||
	    (original && !json_is_object(original))) {
		json_decref(empty);
		return sk_err_set(err, EINVAL, "apply: the configurations must be objects");
	}
	delta = diff_maps(&s, live ? live : empty, modified, t, delta_opts);
	if (!delta)
		goto fail;
	dels = diff_maps(&s, original ? original : empty, modified, t, del_opts);
	if (!dels) {
		json_decref(delta);
		goto fail;
	}
	if (merge_map(&s, &dels, delta, t) < 0) {
		json_decref(delta);
		json_decref(dels);
		goto fail;
	}
	json_decref(delta);
	json_decref(empty);
	*patch = dels;
	return 0;
fail:
	json_decref(empty);
	return sk_err_wrap(err, "compute the apply patch");
}
