/* Validation shared by every kind: field errors with apimachinery's
 * wording (field/errors.go), typed access to untyped JSON, ObjectMeta
 * (create and update), labels, annotations, selectors, quantities, ports;
 * and the public entry points that dispatch to each kind's rules. */
#include "api_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define ANNOTATIONS_MAX_BYTES (256 * 1024)

/* ---- field errors ----------------------------------------------------------- */

fpath fp(const char *fmt, ...)
{
	fpath p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p.s, sizeof(p.s), fmt, ap);
	va_end(ap);
	return p;
}

static void add_cause(verr *v, const char *reason, const char *field, const char *body)
{
	if (!v->causes)
		v->causes = json_array();
	json_array_append_new(v->causes, json_pack("{s:s, s:s, s:s}", "reason", reason, "message",
						   body, "field", field ? field : ""));
}

char *api_go_quote(const char *s)
{
	sk_buf b = {0};

	sk_buf_putc(&b, '"');
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		switch (*p) {
		case '"':
			sk_buf_puts(&b, "\\\"");
			break;
		case '\\':
			sk_buf_puts(&b, "\\\\");
			break;
		case '\n':
			sk_buf_puts(&b, "\\n");
			break;
		case '\t':
			sk_buf_puts(&b, "\\t");
			break;
		case '\r':
			sk_buf_puts(&b, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sk_buf_printf(&b, "\\x%02x", *p);
			else
				sk_buf_putc(&b, (char)*p);
		}
	}
	sk_buf_putc(&b, '"');
	return sk_buf_steal(&b);
}

/* Go's %#v of the values Kubernetes puts in field errors: a
 * map[string]string, a []string; other shapes print as compact JSON. */
char *api_json_go_string(json_t *j)
{
	sk_buf b = {0};
	const char *key;
	json_t *v;
	size_t i;
	bool strings = true;

	switch (json_typeof(j)) {
	case JSON_STRING:
		return api_go_quote(json_string_value(j));
	case JSON_INTEGER:
		return sk_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
	case JSON_REAL:
		return sk_asprintf("%g", json_real_value(j));
	case JSON_TRUE:
		return sk_strdup("true");
	case JSON_FALSE:
		return sk_strdup("false");
	case JSON_NULL:
		return sk_strdup("null");
	case JSON_OBJECT:
		json_object_foreach (j, key, v)
			strings = strings && json_is_string(v);
		if (!strings)
			break;
		{
			/* fmt prints maps with sorted keys. */
			const char **keys = sk_calloc(json_object_size(j) + 1, sizeof(char *));
			size_t n = 0;
			json_object_foreach (j, key, v)
				keys[n++] = key;
			for (size_t a = 1; a < n; a++)
				for (size_t c = a; c > 0 && strcmp(keys[c], keys[c - 1]) < 0; c--) {
					const char *t = keys[c];
					keys[c] = keys[c - 1];
					keys[c - 1] = t;
				}
			sk_buf_puts(&b, "map[string]string{");
			for (size_t a = 0; a < n; a++) {
				_cleanup_free_ char *qk = api_go_quote(keys[a]);
				_cleanup_free_ char *qv = api_go_quote(
					json_string_value(json_object_get(j, keys[a])));
				sk_buf_printf(&b, "%s%s:%s", a ? ", " : "", qk, qv);
			}
			sk_buf_putc(&b, '}');
			free(keys);
			return sk_buf_steal(&b);
		}
	case JSON_ARRAY:
		json_array_foreach (j, i, v)
			strings = strings && json_is_string(v);
		if (!strings)
			break;
		sk_buf_puts(&b, "[]string{");
		json_array_foreach (j, i, v) {
			_cleanup_free_ char *q = api_go_quote(json_string_value(v));
			sk_buf_printf(&b, "%s%s", i ? ", " : "", q);
		}
		sk_buf_putc(&b, '}');
		return sk_buf_steal(&b);
	}
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void add_body(verr *v, const char *reason, const char *field, const char *head,
		     const char *value, const char *detail)
{
	_cleanup_free_ char *body = NULL;

	if (value && detail && *detail)
		body = sk_asprintf("%s: %s: %s", head, value, detail);
	else if (value)
		body = sk_asprintf("%s: %s", head, value);
	else if (detail && *detail)
		body = sk_asprintf("%s: %s", head, detail);
	else
		body = sk_strdup(head);
	add_cause(v, reason, field, body);
}

void verr_required(verr *v, const char *field, const char *detail)
{
	add_body(v, "FieldValueRequired", field, "Required value", NULL, detail);
}

void verr_forbidden(verr *v, const char *field, const char *detail)
{
	add_body(v, "FieldValueForbidden", field, "Forbidden", NULL, detail);
}

void verr_invalid_str(verr *v, const char *field, const char *value, const char *detail)
{
	_cleanup_free_ char *q = api_go_quote(value ? value : "");

	add_body(v, "FieldValueInvalid", field, "Invalid value", q, detail);
}

void verr_invalid_int(verr *v, const char *field, int64_t value, const char *detail)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)value);
	add_body(v, "FieldValueInvalid", field, "Invalid value", buf, detail);
}

void verr_invalid_raw(verr *v, const char *field, const char *rendered, const char *detail)
{
	add_body(v, "FieldValueInvalid", field, "Invalid value", rendered, detail);
}

void verr_invalid_json(verr *v, const char *field, json_t *value, const char *detail)
{
	_cleanup_free_ char *r = value ? api_json_go_string(value) : sk_strdup("null");

	add_body(v, "FieldValueInvalid", field, "Invalid value", r, detail);
}

void verr_not_supported(verr *v, const char *field, const char *value, const char *const *supported)
{
	_cleanup_free_ char *q = api_go_quote(value ? value : "");

	verr_not_supported_raw(v, field, q, supported);
}

void verr_not_supported_raw(verr *v, const char *field, const char *q, const char *const *supported)
{
	sk_buf d = {0};
	_cleanup_free_ char *detail = NULL;

	for (size_t i = 0; supported && supported[i]; i++) {
		_cleanup_free_ char *s = api_go_quote(supported[i]);
		sk_buf_printf(&d, "%s%s", i ? ", " : "supported values: ", s);
	}
	detail = sk_buf_steal(&d);
	add_body(v, "FieldValueNotSupported", field, "Unsupported value", q, detail);
}

void verr_duplicate_str(verr *v, const char *field, const char *value)
{
	_cleanup_free_ char *q = api_go_quote(value ? value : "");

	add_body(v, "FieldValueDuplicate", field, "Duplicate value", q, NULL);
}

void verr_duplicate_int(verr *v, const char *field, int64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)value);
	add_body(v, "FieldValueDuplicate", field, "Duplicate value", buf, NULL);
}

void verr_duplicate_raw(verr *v, const char *field, const char *rendered)
{
	add_body(v, "FieldValueDuplicate", field, "Duplicate value", rendered, NULL);
}

void verr_not_found_str(verr *v, const char *field, const char *value)
{
	_cleanup_free_ char *q = api_go_quote(value ? value : "");

	add_body(v, "FieldValueNotFound", field, "Not found", q, NULL);
}

void verr_too_long(verr *v, const char *field, size_t max)
{
	char d[64];

	snprintf(d, sizeof(d), "may not be more than %zu bytes", max);
	add_body(v, "FieldValueTooLong", field, "Too long", NULL, d);
}

void verr_too_many(verr *v, const char *field, int64_t actual, int64_t max)
{
	char a[32], d[64];

	snprintf(a, sizeof(a), "%lld", (long long)actual);
	snprintf(d, sizeof(d), "must have at most %lld items", (long long)max);
	add_body(v, "FieldValueTooMany", field, "Too many", a, d);
}

void verr_type(verr *v, const char *field, json_t *value, const char *want)
{
	_cleanup_free_ char *r = api_json_go_string(value);
	_cleanup_free_ char *d = sk_asprintf("must be of type %s", want);

	add_body(v, "FieldValueTypeInvalid", field, "Invalid value", r, d);
}

/* ---- typed access ------------------------------------------------------------ */

static json_t *vget(verr *v, json_t *obj, const char *key, const char *path, json_type t,
		    const char *tname)
{
	json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!j || json_is_null(j))
		return NULL;
	if (json_typeof(j) == t || (t == JSON_TRUE && json_is_boolean(j)))
		return j;
	verr_type(v, fp("%s%s%s", path, *path ? "." : "", key).s, j, tname);
	return NULL;
}

json_t *vget_str(verr *v, json_t *obj, const char *key, const char *path)
{
	return vget(v, obj, key, path, JSON_STRING, "string");
}

json_t *vget_int(verr *v, json_t *obj, const char *key, const char *path)
{
	return vget(v, obj, key, path, JSON_INTEGER, "integer");
}

json_t *vget_bool(verr *v, json_t *obj, const char *key, const char *path)
{
	return vget(v, obj, key, path, JSON_TRUE, "boolean");
}

json_t *vget_obj(verr *v, json_t *obj, const char *key, const char *path)
{
	return vget(v, obj, key, path, JSON_OBJECT, "object");
}

json_t *vget_arr(verr *v, json_t *obj, const char *key, const char *path)
{
	return vget(v, obj, key, path, JSON_ARRAY, "array");
}

json_t *vget_intstr(verr *v, json_t *obj, const char *key, const char *path)
{
	json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!j || json_is_null(j))
		return NULL;
	if (json_is_integer(j) || json_is_string(j))
		return j;
	verr_type(v, fp("%s.%s", path, key).s, j, "integer or string");
	return NULL;
}

const char *vstr(verr *v, json_t *obj, const char *key, const char *path)
{
	json_t *s = vget_str(v, obj, key, path);

	return s ? json_string_value(s) : "";
}

/* ---- small shared checks -------------------------------------------------- */

void validate_dns1123_label(verr *v, const char *s, const char *path)
{
	const char *m[NAME_MAX_MSGS];
	int n = names_dns1123_label(s, m);

	for (int i = 0; i < n; i++)
		verr_invalid_str(v, path, s, m[i]);
}

void validate_dns1123_subdomain(verr *v, const char *s, const char *path)
{
	const char *m[NAME_MAX_MSGS];
	int n = names_dns1123_subdomain(s, m);

	for (int i = 0; i < n; i++)
		verr_invalid_str(v, path, s, m[i]);
}

void validate_qualified_name(verr *v, const char *s, const char *path)
{
	const char *m[NAME_MAX_MSGS];
	int n = names_qualified_name(s, m);

	for (int i = 0; i < n; i++)
		verr_invalid_str(v, path, s, m[i]);
}

void validate_nonnegative(verr *v, json_t *n, const char *path)
{
	if (json_is_integer(n) && json_integer_value(n) < 0)
		verr_invalid_int(v, path, json_integer_value(n),
				 "must be greater than or equal to 0");
}

bool validate_quantity(verr *v, json_t *q, const char *path, int64_t *milli)
{
	sk_err err = {0};
	int64_t m;

	if (!json_is_string(q) && !json_is_number(q)) {
		verr_type(v, path, q, "string");
		return false;
	}
	if (json_is_string(q) && strchr(json_string_value(q), '-') == json_string_value(q)) {
		verr_invalid_str(v, path, json_string_value(q),
				 "must be greater than or equal to 0");
		return false;
	}
	if (api_quantity_json_milli(q, &m, &err) < 0) {
		_cleanup_free_ char *r = api_json_go_string(q);
		verr_invalid_raw(v, path, r,
				 err.code == ERANGE
					 ? "quantity is too large"
					 : "quantities must match the regular expression "
					   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
		return false;
	}
	if (milli)
		*milli = m;
	return true;
}

const char *port_num_msg(int64_t port)
{
	return port >= 1 && port <= 65535 ? NULL : "must be between 1 and 65535, inclusive";
}

/* IsValidPortName: an IANA_SVC_NAME. */
int port_name_msgs(const char *name, const char **msgs)
{
	size_t len = strlen(name);
	bool letter = false, ok = true;
	int n = 0;

	if (len > 15)
		msgs[n++] = "must be no more than 15 characters";
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			letter = true;
		else if (!(c >= '0' && c <= '9') && c != '-')
			ok = false;
	}
	if (!ok)
		msgs[n++] =
			"must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
	if (strstr(name, "--"))
		msgs[n++] = "must not contain consecutive hyphens";
	if (!letter)
		msgs[n++] = "must contain at least one letter (a-z)";
	if (len && (name[0] == '-' || name[len - 1] == '-') && n < NAME_MAX_MSGS)
		msgs[n++] = "must not begin or end with a hyphen";
	return n;
}

bool one_of(const char *s, const char *const *values)
{
	for (; s && *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

void validate_immutable(verr *v, json_t *now, json_t *before, const char *path)
{
	json_t *a = now && !json_is_null(now) ? now : NULL;
	json_t *b = before && !json_is_null(before) ? before : NULL;

	if ((a || b) && (!a || !b || !json_equal(a, b))) {
		json_t *shown = a ? a : json_null();
		verr_invalid_json(v, path, shown, "field is immutable");
	}
}

/* ---- metadata --------------------------------------------------------------- */

void validate_labels(verr *v, json_t *labels, const char *path)
{
	const char *key;
	json_t *val;

	if (!json_is_object(labels))
		return;
	json_object_foreach (labels, key, val) {
		const char *m[NAME_MAX_MSGS];
		int n = names_qualified_name(key, m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, path, key, m[i]);
		if (!json_is_string(val)) {
			verr_type(v, fp("%s[%s]", path, key).s, val, "string");
			continue;
		}
		n = names_label_value(json_string_value(val), m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, path, json_string_value(val), m[i]);
	}
}

static void validate_annotations(verr *v, json_t *ann, const char *path)
{
	const char *key;
	json_t *val;
	size_t total = 0;

	if (!json_is_object(ann))
		return;
	json_object_foreach (ann, key, val) {
		/* Annotation keys are qualified names, case aside. */
		_cleanup_free_ char *lower = sk_strdup(key);
		const char *m[NAME_MAX_MSGS];
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		int n = names_qualified_name(lower, m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, path, key, m[i]);
		if (!json_is_string(val))
			verr_type(v, fp("%s[%s]", path, key).s, val, "string");
		total += strlen(key) + json_string_length(val);
	}
	if (total > ANNOTATIONS_MAX_BYTES)
		verr_too_long(v, path, ANNOTATIONS_MAX_BYTES);
}

static void validate_owner_refs(verr *v, json_t *refs, const char *path)
{
	_cleanup_free_ char *first = NULL;
	json_t *r;
	size_t i;

	json_array_foreach (refs, i, r) {
		fpath p = fp("%s[%zu]", path, i);
		const char *av = vstr(v, r, "apiVersion", p.s), *kind = vstr(v, r, "kind", p.s);
		const char *name = vstr(v, r, "name", p.s), *uid = vstr(v, r, "uid", p.s);
		const char *slash = strrchr(av, '/');
		json_t *ctl = vget_bool(v, r, "controller", p.s);

		if (!json_is_object(r)) {
			verr_type(v, p.s, r, "object");
			continue;
		}
		if (!*(slash ? slash + 1 : av))
			verr_invalid_str(v, fp("%s.apiVersion", path).s, av,
					 "version must not be empty");
		if (!*kind)
			verr_invalid_str(v, fp("%s.kind", path).s, kind, "must not be empty");
		if (!*name)
			verr_invalid_str(v, fp("%s.name", path).s, name, "must not be empty");
		if (!*uid)
			verr_invalid_str(v, fp("%s.uid", path).s, uid, "must not be empty");
		if (json_is_true(ctl)) {
			_cleanup_free_ char *cur = sk_asprintf("%s/%s", kind, name);
			if (first) {
				_cleanup_free_ char *d = sk_asprintf(
					"Only one reference can have Controller set to true. Found "
					"\"true\" in references for %s and %s",
					first, cur);
				verr_invalid_json(v, path, refs, d);
			} else {
				first = move_ptr(cur);
			}
		}
	}
}

static void validate_finalizers(verr *v, json_t *fins, const char *path)
{
	static const char *const standard[] = {"kubernetes", "orphan", "foregroundDeletion", NULL};
	bool orphan = false;
	json_t *f;
	size_t i;

	json_array_foreach (fins, i, f) {
		fpath p = fp("%s[%zu]", path, i);
		const char *s = json_string_value(f);
		if (!s) {
			verr_type(v, p.s, f, "string");
			continue;
		}
		validate_qualified_name(v, s, path);
		if (!strchr(s, '/') && !one_of(s, standard))
			verr_invalid_str(
				v, p.s, s,
				"name is neither a standard finalizer name nor is it fully "
				"qualified");
		if (!strcmp(s, "orphan"))
			orphan = true;
		if (!strcmp(s, "foregroundDeletion") && orphan)
			verr_invalid_json(
				v, path, fins,
				"finalizer foregroundDeletion and orphan cannot be both set");
	}
}

static enum name_rule name_rule_of(const api_kind *k)
{
	if (!strcmp(k->kind, "Namespace"))
		return NAME_DNS1123_LABEL;
	if (!strcmp(k->kind, "Service"))
		return NAME_DNS1035_LABEL;
	if (!strcmp(k->kind, "Event"))
		return NAME_PATH_SEGMENT;
	return NAME_DNS1123_SUBDOMAIN;
}

void validate_object_meta(verr *v, const api_kind *k, json_t *obj)
{
	json_t *meta = vget_obj(v, obj, "metadata", "");
	enum name_rule rule = name_rule_of(k);
	const char *name = vstr(v, meta, "name", "metadata");
	const char *gen = vstr(v, meta, "generateName", "metadata");
	const char *ns = vstr(v, meta, "namespace", "metadata");
	const char *m[NAME_MAX_MSGS];
	int n;

	if (!meta && json_object_get(obj, "metadata") &&
	    !json_is_null(json_object_get(obj, "metadata")))
		return;
	if (*gen) {
		n = names_check(rule, gen, true, m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, "metadata.generateName", gen, m[i]);
	}
	if (!*name) {
		verr_required(v, "metadata.name", "name or generateName is required");
	} else {
		n = names_check(rule, name, false, m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, "metadata.name", name, m[i]);
	}
	if (k->namespaced) {
		if (!*ns) {
			verr_required(v, "metadata.namespace", "");
		} else {
			n = names_dns1123_label(ns, m);
			for (int i = 0; i < n; i++)
				verr_invalid_str(v, "metadata.namespace", ns, m[i]);
		}
	} else if (*ns) {
		verr_forbidden(v, "metadata.namespace", "not allowed on this type");
	}
	validate_nonnegative(v, vget_int(v, meta, "generation", "metadata"), "metadata.generation");
	validate_labels(v, vget_obj(v, meta, "labels", "metadata"), "metadata.labels");
	validate_annotations(v, vget_obj(v, meta, "annotations", "metadata"),
			     "metadata.annotations");
	validate_owner_refs(v, vget_arr(v, meta, "ownerReferences", "metadata"),
			    "metadata.ownerReferences");
	validate_finalizers(v, vget_arr(v, meta, "finalizers", "metadata"), "metadata.finalizers");
}

void validate_object_meta_update(verr *v, json_t *obj, json_t *old)
{
	static const char *const immutable[] = {"name",
						"namespace",
						"uid",
						"creationTimestamp",
						"deletionTimestamp",
						"deletionGracePeriodSeconds"};
	json_t *meta = api_get(obj, "metadata"), *om = api_get(old, "metadata");
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));

	if (json_object_get(om, "deletionTimestamp")) {
		json_t *added = json_array(), *f;
		size_t i;
		json_array_foreach (json_object_get(meta, "finalizers"), i, f) {
			json_t *of;
			size_t j;
			bool had = false;
			json_array_foreach (json_object_get(om, "finalizers"), j, of)
				had = had || json_equal(f, of);
			if (!had)
				json_array_append(added, f);
		}
		if (json_array_size(added)) {
			_cleanup_free_ char *r = api_json_go_string(added);
			_cleanup_free_ char *d =
				sk_asprintf("no new finalizers can be added if the object "
					    "is being deleted, found new finalizers %s",
					    r);
			verr_forbidden(v, "metadata.finalizers", d);
		}
		json_decref(added);
	}
	if (!rv || !*rv)
		verr_invalid_str(v, "metadata.resourceVersion", "",
				 "must be specified for an update");
	if (api_get_int(obj, "metadata.generation", 0) < api_get_int(old, "metadata.generation", 0))
		verr_invalid_int(v, "metadata.generation",
				 api_get_int(obj, "metadata.generation", 0),
				 "must not be decremented");
	for (size_t i = 0; i < SK_ARRAY_SIZE(immutable); i++)
		validate_immutable(v, json_object_get(meta, immutable[i]),
				   json_object_get(om, immutable[i]),
				   fp("metadata.%s", immutable[i]).s);
}

/* ---- label selectors -------------------------------------------------------- */

void validate_label_selector(verr *v, json_t *sel, const char *path)
{
	json_t *exprs, *e;
	size_t i;

	if (!sel)
		return;
	validate_labels(v, vget_obj(v, sel, "matchLabels", path), fp("%s.matchLabels", path).s);
	exprs = vget_arr(v, sel, "matchExpressions", path);
	json_array_foreach (exprs, i, e) {
		fpath p = fp("%s.matchExpressions[%zu]", path, i);
		const char *op = vstr(v, e, "operator", p.s), *key = vstr(v, e, "key", p.s);
		json_t *vals = vget_arr(v, e, "values", p.s), *val;
		size_t j;

		if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
			if (!json_array_size(vals))
				verr_required(
					v, fp("%s.values", p.s).s,
					"must be specified when `operator` is 'In' or 'NotIn'");
		} else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
			if (json_array_size(vals))
				verr_forbidden(
					v, fp("%s.values", p.s).s,
					"may not be specified when `operator` is 'Exists' or "
					"'DoesNotExist'");
		} else {
			verr_invalid_str(v, fp("%s.operator", p.s).s, op,
					 "not a valid selector operator");
		}
		validate_qualified_name(v, key, fp("%s.key", p.s).s);
		json_array_foreach (vals, j, val) {
			const char *m[NAME_MAX_MSGS];
			const char *s = json_string_value(val);
			int n;
			if (!s) {
				verr_type(v, fp("%s.values[%zu]", p.s, j).s, val, "string");
				continue;
			}
			n = names_label_value(s, m);
			for (int x = 0; x < n; x++)
				verr_invalid_str(v, fp("%s.values[%zu]", p.s, j).s, s, m[x]);
		}
	}
}

/* ---- entry points -------------------------------------------------------------- */

typedef void (*kind_validator)(verr *v, json_t *obj, json_t *old);

static kind_validator validator_of(const api_kind *k)
{
	static const struct {
		const char *kind;
		kind_validator fn;
	} table[] = {
		{"Pod", validate_pod},
		{"Service", validate_service},
		{"Deployment", validate_deployment},
		{"ReplicaSet", validate_replicaset},
		{"ConfigMap", validate_configmap},
		{"Secret", validate_secret},
		{"Namespace", validate_namespace},
		{"Node", validate_node},
		{"Endpoints", validate_endpoints},
		{"Event", validate_event},
		{"PersistentVolume", validate_pv},
		{"PersistentVolumeClaim", validate_pvc},
		{"Lease", validate_lease},
	};

	for (size_t i = 0; i < SK_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].kind, k->kind))
			return table[i].fn;
	return NULL;
}

static json_t *finish(verr *v)
{
	return v->causes ? v->causes : json_array();
}

json_t *api_validate(const api_kind *k, json_t *obj, json_t *old)
{
	verr v = {NULL};
	kind_validator fn;

	if (!json_is_object(obj)) {
		verr_type(&v, "", obj, "object");
		return finish(&v);
	}
	validate_object_meta(&v, k, obj);
	if (old)
		validate_object_meta_update(&v, obj, old);
	fn = validator_of(k);
	if (fn)
		fn(&v, obj, old);
	return finish(&v);
}

json_t *api_validate_status(const api_kind *k, json_t *obj, json_t *old)
{
	verr v = {NULL};

	if (!json_is_object(obj) || !json_is_object(old)) {
		verr_type(&v, "", obj, "object");
		return finish(&v);
	}
	validate_object_meta(&v, k, obj);
	validate_object_meta_update(&v, obj, old);
	if (!strcmp(k->kind, "Pod"))
		validate_pod_status(&v, obj, old);
	else
		vget_obj(&v, obj, "status", "");
	return finish(&v);
}

json_t *api_validate_binding(json_t *binding)
{
	verr v = {NULL};
	json_t *target = vget_obj(&v, binding, "target", "");
	const char *kind = vstr(&v, target, "kind", "target");
	const char *name = vstr(&v, target, "name", "target");
	static const char *const kinds[] = {"Node", "<empty>", NULL};

	if (*kind && strcmp(kind, "Node") != 0)
		verr_not_supported(&v, "target.kind", kind, kinds);
	if (!*name)
		verr_required(&v, "target.name", "");
	return finish(&v);
}

json_t *api_validate_scale(json_t *scale)
{
	verr v = {NULL};
	json_t *spec = vget_obj(&v, scale, "spec", "");
	json_t *r = vget_int(&v, spec, "replicas", "spec");

	if (r && json_integer_value(r) < 0)
		verr_invalid_int(&v, "spec.replicas", json_integer_value(r),
				 "must be greater than or equal to 0");
	return finish(&v);
}
