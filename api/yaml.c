/* YAML (and JSON, a subset of it) to jansson, through libyaml's event
 * parser. The tree is built with an explicit stack, so depth is bounded
 * without recursion, and aliases are expanded by reference counting with a
 * cap on the number of nodes (the "billion laughs" bound). */
#include "api.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_ALIAS_EXPANSIONS 10000
#define YAML_MAX_NODES 1000000 /* after alias expansion */
#define YAML_MAX_ANCHORS 1024
#define YAML_MAX_INPUT (16u << 20)

struct anchor {
	char *name;
	json_t *node;
	size_t size; /* nodes in the anchored tree */
};

struct frame {
	json_t *node; /* object or array being filled */
	char *key;    /* pending mapping key, NULL when a key is expected */
	char *anchor; /* anchor of this container, registered when it closes */
};

struct loader {
	const char *name;
	struct frame stack[YAML_MAX_DEPTH];
	int depth;
	struct anchor anchors[YAML_MAX_ANCHORS];
	int nanchors;
	int aliases;
	size_t nodes; /* nodes made so far, aliases counted expanded */
	json_t *docs;
	json_t *doc;
	sk_err *err;
};

static int load_fail(struct loader *l, const yaml_mark_t *m, const char *what)
{
	return sk_err_set(l->err, EINVAL, "%s:%zu:%zu: %s", l->name, m->line + 1, m->column + 1,
			  what);
}

/* Count the nodes of a tree; it exists in memory within YAML_MAX_NODES,
 * so the walk is bounded. */
static size_t tree_size(json_t *node)
{
	size_t n = 1;
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(node)) {
		json_object_foreach (node, key, v)
			n += tree_size(v);
	} else if (json_is_array(node)) {
		json_array_foreach (node, i, v)
			n += tree_size(v);
	}
	return n;
}

static int add_anchor(struct loader *l, const yaml_mark_t *m, const char *name, json_t *node)
{
	struct anchor *a = NULL;

	if (!name)
		return 0;
	for (int i = 0; i < l->nanchors && !a; i++)
		if (strcmp(l->anchors[i].name, name) == 0)
			a = &l->anchors[i];
	if (a) {
		json_decref(a->node);
	} else {
		if (l->nanchors == YAML_MAX_ANCHORS)
			return load_fail(l, m, "too many anchors");
		a = &l->anchors[l->nanchors++];
		a->name = sk_strdup(name);
	}
	a->node = json_incref(node);
	a->size = tree_size(node);
	return 0;
}

static int count_nodes(struct loader *l, const yaml_mark_t *m, size_t n)
{
	l->nodes += n;
	if (l->nodes > YAML_MAX_NODES)
		return load_fail(l, m,
				 "document too large (more than 1000000 nodes after aliases)");
	return 0;
}

static bool is_ci(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* YAML 1.1 integer: [-+]? decimal, 0x hex, 0o/0 octal, underscores allowed. */
static bool parse_int(const char *s, json_int_t *out)
{
	char clean[64];
	size_t k = 0;
	char *end;
	int base = 10;
	const char *p = s;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!*p)
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1] == 'o') {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p += 1;
	}
	for (; *p; p++) {
		if (*p == '_')
			continue;
		if (k + 1 >= sizeof(clean))
			return false;
		clean[k++] = *p;
	}
	clean[k] = '\0';
	if (!k)
		return false;
	errno = 0;
	long long v = strtoll(clean, &end, base);
	if (errno || *end)
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool parse_float(const char *s, double *out)
{
	static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
	static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
	static const char *const nan_[] = {".nan", ".NaN", ".NAN", NULL};
	char *end;

	if (is_ci(s, inf)) {
		*out = INFINITY;
		return true;
	}
	if (is_ci(s, ninf)) {
		*out = -INFINITY;
		return true;
	}
	if (is_ci(s, nan_)) {
		*out = NAN;
		return true;
	}
	/* must look like a number: digits, one dot or exponent */
	if (!strpbrk(s, "0123456789") || strpbrk(s, "xXpP_") ||
	    strspn(s, "+-.0123456789eE") != strlen(s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !errno && !*end;
}

/* Resolve a plain (unquoted, untagged) scalar as YAML 1.1 does. */
static json_t *resolve_plain(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes",
					    "YES",  "on",   "On",   "ON",  NULL};
	static const char *const falses[] = {"false", "False", "FALSE", "no",  "No",
					     "NO",    "off",   "Off",	"OFF", NULL};
	json_int_t i;
	double d;

	if (is_ci(s, nulls))
		return json_null();
	if (is_ci(s, trues))
		return json_true();
	if (is_ci(s, falses))
		return json_false();
	if (parse_int(s, &i))
		return json_integer(i);
	if (parse_float(s, &d) && isfinite(d))
		return json_real(d);
	return json_string(s);
}

static json_t *scalar_node(const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;

	if (tag && strcmp(tag, YAML_STR_TAG) == 0)
		return json_stringn(value, len);
	if (tag && strcmp(tag, YAML_INT_TAG) == 0) {
		json_int_t i;
		return parse_int(value, &i) ? json_integer(i) : NULL;
	}
	if (!ev->data.scalar.plain_implicit && !tag)
		return json_stringn(value, len);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(value, len);
	if (strlen(value) != len) /* embedded NUL: keep it a string */
		return json_stringn(value, len);
	return resolve_plain(value);
}

/* Attach a finished node to the container on top of the stack (or make it
 * the document). Steals the reference. */
static int attach(struct loader *l, const yaml_mark_t *m, json_t *node)
{
	struct frame *f;

	if (!node)
		return load_fail(l, m, "invalid scalar");
	if (l->depth == 0) {
		if (l->doc)
			json_decref(l->doc);
		l->doc = node;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	if (json_is_array(f->node))
		return json_array_append_new(f->node, node) == 0 ? 0
								 : load_fail(l, m, "out of memory");
	if (!f->key) {
		if (!json_is_string(node)) {
			/* Kubernetes objects only have string keys; render others */
			if (json_is_integer(node)) {
				f->key = sk_asprintf("%" JSON_INTEGER_FORMAT,
						     json_integer_value(node));
			} else if (json_is_boolean(node)) {
				f->key = sk_strdup(json_is_true(node) ? "true" : "false");
			} else if (json_is_null(node)) {
				f->key = sk_strdup("null");
			} else if (json_is_real(node)) {
				f->key = sk_asprintf("%g", json_real_value(node));
			} else {
				json_decref(node);
				return load_fail(l, m, "mapping keys must be scalars");
			}
			json_decref(node);
			return 0;
		}
		f->key = sk_strndup(json_string_value(node), json_string_length(node));
		json_decref(node);
		return 0;
	}
	if (strcmp(f->key, "<<") == 0 && json_is_object(node)) {
		/* merge key: keys already set in the mapping win */
		json_object_update_missing(f->node, node);
		json_decref(node);
	} else {
		json_object_set_new(f->node, f->key, node);
	}
	free(f->key);
	f->key = NULL;
	return 0;
}

static int push(struct loader *l, const yaml_mark_t *m, json_t *node, const yaml_char_t *anchor)
{
	if (l->depth == YAML_MAX_DEPTH) {
		json_decref(node);
		return load_fail(l, m, "nesting deeper than 64 levels");
	}
	l->stack[l->depth].node = node;
	l->stack[l->depth].key = NULL;
	l->stack[l->depth].anchor = anchor ? sk_strdup((const char *)anchor) : NULL;
	l->depth++;
	return 0;
}

static int pop(struct loader *l, const yaml_mark_t *m)
{
	struct frame *f = &l->stack[--l->depth];
	_cleanup_free_ char *anchor = f->anchor;

	free(f->key);
	if (add_anchor(l, m, anchor, f->node) < 0) {
		json_decref(f->node);
		return -1;
	}
	return attach(l, m, f->node);
}

static int alias_node(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;

	if (++l->aliases > YAML_MAX_ALIAS_EXPANSIONS)
		return load_fail(l, &ev->start_mark, "too many aliases");
	for (int i = 0; i < l->nanchors; i++) {
		if (strcmp(l->anchors[i].name, name) != 0)
			continue;
		if (count_nodes(l, &ev->start_mark, l->anchors[i].size) < 0)
			return -1;
		return attach(l, &ev->start_mark, json_deep_copy(l->anchors[i].node));
	}
	return load_fail(l, &ev->start_mark, "unknown anchor");
}

static bool expecting_key(const struct loader *l)
{
	return l->depth > 0 && json_is_object(l->stack[l->depth - 1].node) &&
	       !l->stack[l->depth - 1].key;
}

static int handle_event(struct loader *l, const yaml_event_t *ev)
{
	json_t *node;

	if ((ev->type == YAML_SCALAR_EVENT || ev->type == YAML_SEQUENCE_START_EVENT ||
	     ev->type == YAML_MAPPING_START_EVENT) &&
	    count_nodes(l, &ev->start_mark, 1) < 0)
		return -1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		/* a mapping key keeps its text: `on:` names the key "on" */
		if (expecting_key(l))
			node = json_stringn((const char *)ev->data.scalar.value,
					    ev->data.scalar.length);
		else
			node = scalar_node(ev);
		if (node && add_anchor(l, &ev->start_mark, (const char *)ev->data.scalar.anchor,
				       node) < 0) {
			json_decref(node);
			return -1;
		}
		return attach(l, &ev->start_mark, node);
	case YAML_SEQUENCE_START_EVENT:
		return push(l, &ev->start_mark, json_array(), ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return push(l, &ev->start_mark, json_object(), ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return pop(l, &ev->start_mark);
	case YAML_ALIAS_EVENT:
		return alias_node(l, ev);
	case YAML_DOCUMENT_END_EVENT:
		if (l->doc && !json_is_null(l->doc))
			json_array_append_new(l->docs, l->doc);
		else
			json_decref(l->doc);
		l->doc = NULL;
		return 0;
	default:
		return 0;
	}
}

static void loader_release(struct loader *l)
{
	while (l->depth > 0) {
		struct frame *f = &l->stack[--l->depth];
		json_decref(f->node);
		free(f->key);
		free(f->anchor);
	}
	for (int i = 0; i < l->nanchors; i++) {
		free(l->anchors[i].name);
		json_decref(l->anchors[i].node);
	}
	json_decref(l->doc);
}

static bool json_depth_ok(json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > YAML_MAX_DEPTH)
		return false;
	if (json_is_object(j)) {
		json_object_foreach (j, key, v)
			if (!json_depth_ok(v, depth + 1))
				return false;
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (!json_depth_ok(v, depth + 1))
				return false;
	}
	return true;
}

/* A stream of JSON documents, read as JSON (kubectl's YAMLOrJSONDecoder
 * does so when the input starts with '{'): JSON escapes such as
 * surrogate pairs are JSON's, not YAML's. */
static int json_stream_load(const char *text, size_t len, const char *name, json_t **docs,
			    sk_err *err)
{
	json_t *out = json_array();
	size_t pos = 0, line = 1;

	for (;;) {
		json_error_t e;
		json_t *doc;

		while (pos < len && strchr(" \t\r\n", text[pos]) && text[pos]) {
			line += text[pos] == '\n';
			pos++;
		}
		if (pos >= len)
			break;
		doc = json_loadb(text + pos, len - pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
				 &e);
		if (!doc) {
			json_decref(out);
			return sk_err_set(err, EINVAL, "%s:%zu:%d: %s", name,
					  line + (size_t)e.line - 1, e.column, e.text);
		}
		if (!json_depth_ok(doc, 1)) {
			json_decref(doc);
			json_decref(out);
			return sk_err_set(err, EINVAL, "%s:%zu: nested deeper than %d levels", name,
					  line, YAML_MAX_DEPTH);
		}
		for (size_t i = 0; i < (size_t)e.position && pos + i < len; i++)
			line += text[pos + i] == '\n';
		pos += (size_t)e.position;
		if (json_is_null(doc))
			json_decref(doc);
		else
			json_array_append_new(out, doc);
	}
	*docs = out;
	return 0;
}

int api_yaml_load(const char *text, size_t len, const char *name, json_t **docs, sk_err *err)
{
	struct loader l = {.name = name ? name : "<input>", .err = err};
	yaml_parser_t parser;
	int ret = 0;
	size_t first = 0;

	if (len > YAML_MAX_INPUT)
		return sk_err_set(err, EFBIG, "%s: larger than %u bytes", l.name, YAML_MAX_INPUT);
	while (first < len && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r' ||
			       text[first] == '\n'))
		first++;
	if (first < len && text[first] == '{')
		return json_stream_load(text, len, l.name, docs, err);
	if (!yaml_parser_initialize(&parser))
		return sk_err_set(err, ENOMEM, "%s: cannot initialize the YAML parser", l.name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	l.docs = json_array();
	for (;;) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			ret = sk_err_set(err, EINVAL, "%s:%zu:%zu: %s", l.name,
					 parser.problem_mark.line + 1,
					 parser.problem_mark.column + 1,
					 parser.problem ? parser.problem : "invalid YAML");
			break;
		}
		bool done = ev.type == YAML_STREAM_END_EVENT;
		ret = handle_event(&l, &ev);
		yaml_event_delete(&ev);
		if (ret < 0 || done)
			break;
	}
	yaml_parser_delete(&parser);
	loader_release(&l);
	if (ret < 0) {
		json_decref(l.docs);
		return -1;
	}
	*docs = l.docs;
	return 0;
}

int api_yaml_load_file(const char *path, json_t **docs, sk_err *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (strcmp(path, "-") == 0) {
		if (sk_read_fd(0, YAML_MAX_INPUT, &text, &len, err) < 0)
			return sk_err_wrap(err, "read standard input");
		return api_yaml_load(text, len, "<stdin>", docs, err);
	}
	if (sk_read_file(path, YAML_MAX_INPUT, &text, &len, err) < 0)
		return -1;
	return api_yaml_load(text, len, path, docs, err);
}
