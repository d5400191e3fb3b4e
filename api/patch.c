/* JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as the apiserver
 * applies them (evanphx/json-patch semantics and messages). Both work on
 * copies, so the caller's documents stay untouched, and both are bounded:
 * depth, operation count, and the total size copied by "copy". */
#include "api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JSON_PATCH_MAX_OPS 10000
#define JSON_PATCH_MAX_COPIED 1000000 /* nodes, across all "copy" operations */

/* ---- RFC 7386 ------------------------------------------------------------ */

static int merge_into(json_t *target, json_t *patch, int depth, sk_err *err);

/* A patch value placed where the target has nothing: its nulls mean
 * nothing to delete, so they are dropped (MergePatch of {} and value). */
static json_t *merge_value(json_t *target, json_t *value, int depth, sk_err *err)
{
	json_t *base;

	if (!json_is_object(value))
		return json_incref(value);
	base = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (merge_into(base, value, depth + 1, err) < 0) {
		json_decref(base);
		return NULL;
	}
	return base;
}

static int merge_into(json_t *target, json_t *patch, int depth, sk_err *err)
{
	const char *key;
	json_t *v;

	if (depth > API_MAX_DEPTH)
		return sk_err_set(err, E2BIG, "merge patch is nested deeper than %d levels",
				  API_MAX_DEPTH);
	json_object_foreach (patch, key, v) {
		json_t *merged;
		if (json_is_null(v)) {
			json_object_del(target, key);
			continue;
		}
		merged = merge_value(json_object_get(target, key), v, depth, err);
		if (!merged)
			return -1;
		json_object_set_new(target, key, merged);
	}
	return 0;
}

int api_merge_patch(json_t *doc, json_t *patch, json_t **out, sk_err *err)
{
	json_t *res;

	if (!json_is_object(patch))
		return sk_err_set(err, EINVAL, "invalid JSON merge patch: it must be an object");
	res = json_is_object(doc) ? json_deep_copy(doc) : json_object();
	if (merge_into(res, patch, 1, err) < 0) {
		json_decref(res);
		return -1;
	}
	*out = res;
	return 0;
}

/* ---- RFC 6901 pointers ------------------------------------------------ */

/* Split a pointer into its unescaped reference tokens ("~1" is '/', "~0"
 * is '~'). "" is the whole document (no tokens). */
static int pointer_split(const char *ptr, char ***tokens, sk_err *err)
{
	char **v = NULL;
	const char *p = ptr;

	*tokens = NULL;
	if (!*ptr) {
		*tokens = sk_calloc(1, sizeof(char *));
		return 0;
	}
	if (*ptr != '/')
		return sk_err_set(err, EINVAL, "JSON pointer \"%s\" must start with '/'", ptr);
	while (*p == '/') {
		sk_buf b = {0};
		p++;
		for (; *p && *p != '/'; p++) {
			if (*p == '~') {
				if (p[1] == '0') {
					sk_buf_putc(&b, '~');
				} else if (p[1] == '1') {
					sk_buf_putc(&b, '/');
				} else {
					sk_buf_free(&b);
					sk_strv_free(v);
					return sk_err_set(err, EINVAL,
							  "JSON pointer \"%s\" has a bad escape",
							  ptr);
				}
				p++;
			} else {
				sk_buf_putc(&b, *p);
			}
		}
		char *tok = sk_buf_steal(&b);
		v = sk_strv_push(v, tok);
		free(tok);
		if (sk_strv_len(v) > API_MAX_DEPTH) {
			sk_strv_free(v);
			return sk_err_set(err, E2BIG, "JSON pointer \"%.64s...\" is too deep", ptr);
		}
	}
	*tokens = v ? v : sk_calloc(1, sizeof(char *));
	return 0;
}

/* An array index token: digits without leading zeros, below n (or equal
 * to n, or "-", when appending is allowed). */
static bool array_index(const char *tok, size_t n, bool append, size_t *idx)
{
	int64_t v;

	if (append && strcmp(tok, "-") == 0) {
		*idx = n;
		return true;
	}
	if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] == '-' || tok[0] == '+')
		return false;
	for (const char *p = tok; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	if (sk_parse_int64(tok, 0, INT64_MAX, &v, NULL) < 0)
		return false;
	if ((size_t)v > n || (!append && (size_t)v == n))
		return false;
	*idx = (size_t)v;
	return true;
}

/* The container holding the last token of a pointer (borrowed). */
static json_t *pointer_parent(json_t *doc, char **tokens, size_t ntok)
{
	json_t *cur = doc;

	for (size_t i = 0; i + 1 < ntok; i++) {
		size_t idx;
		if (json_is_object(cur))
			cur = json_object_get(cur, tokens[i]);
		else if (json_is_array(cur) &&
			 array_index(tokens[i], json_array_size(cur), false, &idx))
			cur = json_array_get(cur, idx);
		else
			return NULL;
		if (!cur)
			return NULL;
	}
	return cur;
}

static json_t *pointer_get(json_t *doc, char **tokens, size_t ntok)
{
	json_t *parent;
	size_t idx;

	if (ntok == 0)
		return doc;
	parent = pointer_parent(doc, tokens, ntok);
	if (json_is_object(parent))
		return json_object_get(parent, tokens[ntok - 1]);
	if (json_is_array(parent) &&
	    array_index(tokens[ntok - 1], json_array_size(parent), false, &idx))
		return json_array_get(parent, idx);
	return NULL;
}

/* ---- RFC 6902 operations ------------------------------------------------- */

struct jp {
	json_t *doc; /* owned; replaced when a path is "" */
	size_t copied;
	sk_err *err;
};

static int op_add(struct jp *jp, const char *path, json_t *value)
{
	_cleanup_strv_ char **t = NULL;
	size_t n, idx;
	json_t *parent;

	if (pointer_split(path, &t, jp->err) < 0)
		return -1;
	n = sk_strv_len(t);
	if (n == 0) {
		json_decref(jp->doc);
		jp->doc = json_deep_copy(value);
		return 0;
	}
	parent = pointer_parent(jp->doc, t, n);
	if (json_is_object(parent)) {
		if (json_object_set_new(parent, t[n - 1], json_deep_copy(value)) < 0)
			return sk_err_set(jp->err, EINVAL, "add operation: bad key in %s", path);
		return 0;
	}
	if (json_is_array(parent)) {
		if (!array_index(t[n - 1], json_array_size(parent), true, &idx))
			return sk_err_set(jp->err, EPROTO,
					  "add operation does not apply: index out of bounds: %s",
					  path);
		json_array_insert_new(parent, idx, json_deep_copy(value));
		return 0;
	}
	return sk_err_set(jp->err, EPROTO,
			  "add operation does not apply: doc is missing path: \"%s\"", path);
}

/* Detach the value at path; *out gets a reference to it. */
static int op_take(struct jp *jp, const char *opname, const char *path, json_t **out)
{
	_cleanup_strv_ char **t = NULL;
	size_t n, idx;
	json_t *parent, *v;

	if (pointer_split(path, &t, jp->err) < 0)
		return -1;
	n = sk_strv_len(t);
	if (n == 0) {
		*out = jp->doc;
		jp->doc = json_null();
		return 0;
	}
	parent = pointer_parent(jp->doc, t, n);
	if (json_is_object(parent) && (v = json_object_get(parent, t[n - 1]))) {
		*out = json_incref(v);
		json_object_del(parent, t[n - 1]);
		return 0;
	}
	if (json_is_array(parent) && array_index(t[n - 1], json_array_size(parent), false, &idx)) {
		*out = json_incref(json_array_get(parent, idx));
		json_array_remove(parent, idx);
		return 0;
	}
	if (!parent)
		return sk_err_set(jp->err, EPROTO,
				  "%s operation does not apply: doc is missing path: \"%s\"",
				  opname, path);
	return sk_err_set(jp->err, EPROTO, "%s operation does not apply: doc is missing key: %s",
			  opname, path);
}

static int op_replace(struct jp *jp, const char *path, json_t *value)
{
	_cleanup_strv_ char **t = NULL;
	size_t n, idx;
	json_t *parent;

	if (pointer_split(path, &t, jp->err) < 0)
		return -1;
	n = sk_strv_len(t);
	if (n == 0) {
		json_decref(jp->doc);
		jp->doc = json_deep_copy(value);
		return 0;
	}
	parent = pointer_parent(jp->doc, t, n);
	if (json_is_object(parent) && json_object_get(parent, t[n - 1])) {
		json_object_set_new(parent, t[n - 1], json_deep_copy(value));
		return 0;
	}
	if (json_is_array(parent) && array_index(t[n - 1], json_array_size(parent), false, &idx)) {
		json_array_set_new(parent, idx, json_deep_copy(value));
		return 0;
	}
	return sk_err_set(jp->err, EPROTO,
			  "replace operation does not apply: doc is missing key: %s", path);
}

static size_t tree_nodes(json_t *j)
{
	size_t n = 1, i;
	const char *k;
	json_t *v;

	if (json_is_object(j)) {
		json_object_foreach (j, k, v)
			n += tree_nodes(v);
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			n += tree_nodes(v);
	}
	return n;
}

static int op_copy_move(struct jp *jp, bool move, const char *from, const char *path)
{
	_cleanup_strv_ char **t = NULL;
	json_t *v;
	int ret;

	if (move) {
		/* A value cannot be moved into one of its own children. */
		size_t fl = strlen(from);
		if (strncmp(path, from, fl) == 0 && path[fl] == '/')
			return sk_err_set(
				jp->err, EPROTO,
				"move operation does not apply: \"from\" (%s) is a prefix "
				"of \"path\" (%s)",
				from, path);
		if (op_take(jp, "move", from, &v) < 0)
			return -1;
	} else {
		if (pointer_split(from, &t, jp->err) < 0)
			return -1;
		v = pointer_get(jp->doc, t, sk_strv_len(t));
		if (!v)
			return sk_err_set(
				jp->err, EPROTO,
				"copy operation does not apply: doc is missing from path: %s",
				from);
		jp->copied += tree_nodes(v);
		if (jp->copied > JSON_PATCH_MAX_COPIED)
			return sk_err_set(jp->err, E2BIG,
					  "copy operations would copy more than %d values",
					  JSON_PATCH_MAX_COPIED);
		json_incref(v);
	}
	ret = op_add(jp, path, v);
	json_decref(v);
	return ret;
}

static int op_test(struct jp *jp, const char *path, json_t *value)
{
	_cleanup_strv_ char **t = NULL;
	json_t *v;

	if (pointer_split(path, &t, jp->err) < 0)
		return -1;
	v = pointer_get(jp->doc, t, sk_strv_len(t));
	if (!v && json_is_null(value))
		return 0;
	if (!v || !json_equal(v, value))
		return sk_err_set(jp->err, EPROTO, "testing value %s failed: test failed", path);
	return 0;
}

static int apply_op(struct jp *jp, json_t *op, size_t i)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value");
	json_t *taken;

	if (!json_is_object(op))
		return sk_err_set(jp->err, EINVAL,
				  "invalid JSON patch: operation %zu is not an object", i);
	if (!name)
		return sk_err_set(jp->err, EINVAL,
				  "invalid JSON patch: operation %zu has no \"op\"", i);
	if (!path)
		return sk_err_set(jp->err, EINVAL,
				  "invalid JSON patch: operation %zu (%s) has no \"path\"", i,
				  name);
	if (!strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test")) {
		if (!value)
			return sk_err_set(jp->err, EINVAL,
					  "invalid JSON patch: operation %zu (%s) has no \"value\"",
					  i, name);
		if (!strcmp(name, "add"))
			return op_add(jp, path, value);
		if (!strcmp(name, "replace"))
			return op_replace(jp, path, value);
		return op_test(jp, path, value);
	}
	if (!strcmp(name, "remove")) {
		if (op_take(jp, "remove", path, &taken) < 0)
			return -1;
		json_decref(taken);
		return 0;
	}
	if (!strcmp(name, "move") || !strcmp(name, "copy")) {
		if (!from)
			return sk_err_set(jp->err, EINVAL,
					  "invalid JSON patch: operation %zu (%s) has no \"from\"",
					  i, name);
		return op_copy_move(jp, !strcmp(name, "move"), from, path);
	}
	return sk_err_set(jp->err, EINVAL, "Unexpected kind: %s", name);
}

int api_json_patch(json_t *doc, json_t *ops, json_t **out, sk_err *err)
{
	struct jp jp = {NULL, 0, err};
	json_t *op;
	size_t i;

	if (!json_is_array(ops))
		return sk_err_set(err, EINVAL,
				  "invalid JSON patch: it must be a list of operations");
	if (json_array_size(ops) > JSON_PATCH_MAX_OPS)
		return sk_err_set(err, E2BIG,
				  "The allowed maximum operations in a JSON patch is %d, got %zu",
				  JSON_PATCH_MAX_OPS, json_array_size(ops));
	jp.doc = json_deep_copy(doc);
	json_array_foreach (ops, i, op) {
		if (apply_op(&jp, op, i) < 0) {
			json_decref(jp.doc);
			return -1;
		}
	}
	*out = jp.doc;
	return 0;
}
