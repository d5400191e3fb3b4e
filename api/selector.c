/* Label selectors (labels.Parse, metav1.LabelSelector) and field selectors
 * (fields.ParseSelector plus each kind's supported field labels). Both
 * parse into one structure: a conjunction of requirements on string
 * values. Parsing is bounded in length, requirements and values. */
#include "api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEL_MAX_LEN 16384
#define SEL_MAX_REQS 256
#define SEL_MAX_VALUES 256

enum sel_op { OP_EQ, OP_DEQ, OP_NEQ, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT };

struct req {
	char *key;
	enum sel_op op;
	char **values; /* sorted, unique */
	size_t n;
};

struct api_selector {
	struct req *reqs;
	size_t n;
	bool nothing;	      /* a nil LabelSelector: matches no object */
	const api_kind *kind; /* set for field selectors */
};

void api_selector_free(api_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (size_t j = 0; j < sel->reqs[i].n; j++)
			free(sel->reqs[i].values[j]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	free(sel);
}

void api_selector_freep(api_selector **sel)
{
	api_selector_free(*sel);
	*sel = NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a requirement; values are copied, sorted and deduplicated, as
 * Kubernetes keeps them in a string set. */
static void add_req(api_selector *sel, const char *key, enum sel_op op, char **values, size_t n)
{
	struct req *r;

	sel->reqs = sk_realloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
	r = &sel->reqs[sel->n++];
	r->key = sk_strdup(key);
	r->op = op;
	r->values = sk_calloc(n ? n : 1, sizeof(char *));
	r->n = 0;
	for (size_t i = 0; i < n; i++)
		r->values[r->n++] = sk_strdup(values[i]);
	qsort(r->values, r->n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < r->n;) {
		if (strcmp(r->values[i], r->values[i - 1]) == 0) {
			free(r->values[i]);
			memmove(&r->values[i], &r->values[i + 1], (r->n - i - 1) * sizeof(char *));
			r->n--;
		} else {
			i++;
		}
	}
}

/* Requirements sorted by key, keeping the order of equal keys. */
static void sort_reqs(api_selector *sel)
{
	for (size_t i = 1; i < sel->n; i++) {
		struct req r = sel->reqs[i];
		size_t j = i;
		while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
			sel->reqs[j] = sel->reqs[j - 1];
			j--;
		}
		sel->reqs[j] = r;
	}
}

/* ---- the label selector lexer and parser (labels.Parse's grammar) ----- */

enum tok {
	T_ERROR,
	T_END,
	T_CLOSE,
	T_COMMA,
	T_NOT,
	T_DEQ,
	T_EQ,
	T_GT,
	T_ID,
	T_IN,
	T_LT,
	T_NEQ,
	T_NOTIN,
	T_OPEN
};

struct item {
	enum tok tok;
	char *lit;
};

struct lexer {
	const char *s;
	size_t pos, len;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static enum tok symbol_token(const char *s, size_t n)
{
	static const struct {
		const char *lit;
		enum tok tok;
	} table[] = {{")", T_CLOSE}, {",", T_COMMA},	 {"!", T_NOT}, {"==", T_DEQ},
		     {"=", T_EQ},    {">", T_GT},	 {"in", T_IN}, {"<", T_LT},
		     {"!=", T_NEQ},  {"notin", T_NOTIN}, {"(", T_OPEN}};

	for (size_t i = 0; i < SK_ARRAY_SIZE(table); i++)
		if (strlen(table[i].lit) == n && memcmp(table[i].lit, s, n) == 0)
			return table[i].tok;
	return T_ERROR;
}

static struct item lex(struct lexer *l)
{
	size_t start;

	while (l->pos < l->len && is_ws(l->s[l->pos]))
		l->pos++;
	if (l->pos >= l->len || l->s[l->pos] == 0)
		return (struct item){T_END, sk_strdup("")};
	start = l->pos;
	if (is_special(l->s[l->pos])) {
		/* The longest run of special symbols that is still a token. */
		enum tok best = T_ERROR;
		size_t best_len = 0;
		for (size_t n = 1; start + n <= l->len && is_special(l->s[start + n - 1]); n++) {
			enum tok t = symbol_token(l->s + start, n);
			if (t != T_ERROR) {
				best = t;
				best_len = n;
			} else if (best != T_ERROR) {
				break;
			}
		}
		if (best == T_ERROR) {
			size_t n = 0;
			while (start + n < l->len && is_special(l->s[start + n]))
				n++;
			l->pos = start + n;
			char *lit = sk_strndup(l->s + start, n);
			char *msg = sk_asprintf("error expected: keyword found '%s'", lit);
			free(lit);
			return (struct item){T_ERROR, msg};
		}
		l->pos = start + best_len;
		return (struct item){best, sk_strndup(l->s + start, best_len)};
	}
	while (l->pos < l->len && l->s[l->pos] && !is_special(l->s[l->pos]) && !is_ws(l->s[l->pos]))
		l->pos++;
	{
		size_t n = l->pos - start;
		enum tok t = symbol_token(l->s + start, n);
		return (struct item){t == T_IN || t == T_NOTIN ? t : T_ID,
				     sk_strndup(l->s + start, n)};
	}
}

struct parser {
	struct item *items;
	size_t n, pos;
	sk_err *err;
};

/* In the values context "in" and "notin" are plain identifiers. */
static enum tok peek(struct parser *p, bool values, const char **lit)
{
	struct item *it = &p->items[p->pos < p->n ? p->pos : p->n - 1];

	*lit = it->lit;
	if (values && (it->tok == T_IN || it->tok == T_NOTIN))
		return T_ID;
	return it->tok;
}

static enum tok next(struct parser *p, bool values, const char **lit)
{
	enum tok t = peek(p, values, lit);

	if (p->pos < p->n - 1)
		p->pos++;
	return t;
}

/* Check a requirement as labels.NewRequirement does. */
static int check_req(const char *key, enum sel_op op, char **values, size_t n, sk_err *err)
{
	const char *msgs[NAME_MAX_MSGS];
	int m = names_qualified_name(key, msgs);

	if (m)
		return sk_err_set(err, EINVAL, "invalid label key \"%s\": %s", key, msgs[0]);
	if ((op == OP_IN || op == OP_NOTIN) && n == 0)
		return sk_err_set(err, EINVAL,
				  "for 'in', 'notin' operators, values set can't be empty");
	for (size_t i = 0; i < n; i++) {
		if (names_label_value(values[i], msgs))
			return sk_err_set(err, EINVAL, "values[%zu][%s]: Invalid value: \"%s\": %s",
					  i, key, values[i], msgs[0]);
		if (op == OP_GT || op == OP_LT) {
			int64_t v;
			if (sk_parse_int64(values[i], INT64_MIN, INT64_MAX, &v, NULL) < 0)
				return sk_err_set(
					err, EINVAL,
					"values[%zu]: Invalid value: \"%s\": for 'Gt', 'Lt' "
					"operators, the value must be an integer",
					i, values[i]);
		}
	}
	return 0;
}

static int parse_values(struct parser *p, char ***vals, size_t *nv)
{
	const char *lit;
	enum tok t = next(p, true, &lit);

	if (t != T_OPEN)
		return sk_err_set(p->err, EINVAL, "found '%s' expected: '('", lit);
	t = peek(p, true, &lit);
	if (t == T_CLOSE) {
		next(p, true, &lit);
		*vals = sk_strv_push(*vals, "");
		(*nv)++;
		return 0;
	}
	if (t != T_ID && t != T_COMMA)
		return sk_err_set(p->err, EINVAL, "found '%s', expected: ',', ')' or identifier",
				  lit);
	/* A list of possibly empty identifiers: "(a,,b)", "(,a)", "(a,)". */
	for (bool want_value = true;;) {
		t = peek(p, true, &lit);
		if (t == T_ID && want_value) {
			next(p, true, &lit);
			*vals = sk_strv_push(*vals, lit);
			want_value = false;
		} else if (t == T_COMMA) {
			next(p, true, &lit);
			if (want_value)
				*vals = sk_strv_push(*vals, "");
			want_value = true;
		} else if (t == T_CLOSE) {
			if (want_value)
				*vals = sk_strv_push(*vals, "");
			next(p, true, &lit);
			break;
		} else {
			return sk_err_set(p->err, EINVAL, "found '%s', expected: ',' or ')'", lit);
		}
		if (sk_strv_len(*vals) > SEL_MAX_VALUES)
			return sk_err_set(p->err, E2BIG, "more than %d values in one requirement",
					  SEL_MAX_VALUES);
	}
	*nv = sk_strv_len(*vals);
	return 0;
}

static int parse_operator(struct parser *p, enum sel_op *op)
{
	const char *lit;

	switch (next(p, false, &lit)) {
	case T_IN:
		*op = OP_IN;
		return 0;
	case T_EQ:
		*op = OP_EQ;
		return 0;
	case T_DEQ:
		*op = OP_DEQ;
		return 0;
	case T_GT:
		*op = OP_GT;
		return 0;
	case T_LT:
		*op = OP_LT;
		return 0;
	case T_NOTIN:
		*op = OP_NOTIN;
		return 0;
	case T_NEQ:
		*op = OP_NEQ;
		return 0;
	default:
		return sk_err_set(p->err, EINVAL,
				  "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
	}
}

static int parse_requirement(struct parser *p, api_selector *sel)
{
	const char *lit;
	enum tok t = next(p, true, &lit);
	bool negated = false;
	enum sel_op op = OP_EXISTS;
	_cleanup_strv_ char **vals = NULL;
	size_t nv = 0;
	_cleanup_free_ char *key = NULL;

	if (t == T_NOT) {
		negated = true;
		t = next(p, true, &lit);
	}
	if (t != T_ID)
		return sk_err_set(p->err, EINVAL, "found '%s', expected: identifier", lit);
	key = sk_strdup(lit);
	t = peek(p, true, &lit);
	if (negated || t == T_END || t == T_COMMA) {
		op = negated ? OP_NOTEXISTS : OP_EXISTS;
	} else {
		if (parse_operator(p, &op) < 0)
			return -1;
		if (op == OP_IN || op == OP_NOTIN) {
			if (parse_values(p, &vals, &nv) < 0)
				return -1;
		} else {
			t = peek(p, true, &lit);
			if (t == T_END || t == T_COMMA) {
				vals = sk_strv_push(vals, "");
			} else if (next(p, true, &lit) == T_ID) {
				vals = sk_strv_push(vals, lit);
			} else {
				return sk_err_set(p->err, EINVAL,
						  "found '%s', expected: identifier", lit);
			}
			nv = 1;
		}
	}
	if (check_req(key, op, vals, nv, p->err) < 0)
		return -1;
	add_req(sel, key, op, vals, nv);
	return 0;
}

static int parse_items(struct parser *p, api_selector *sel)
{
	const char *lit;

	for (;;) {
		enum tok t = peek(p, true, &lit);
		if (t == T_END)
			return 0;
		if (t != T_ID && t != T_NOT)
			return sk_err_set(p->err, EINVAL,
					  "found '%s', expected: !, identifier, or 'end of string'",
					  lit);
		if (sel->n >= SEL_MAX_REQS)
			return sk_err_set(p->err, E2BIG, "more than %d requirements", SEL_MAX_REQS);
		if (parse_requirement(p, sel) < 0)
			return sk_err_wrap(p->err, "unable to parse requirement");
		t = next(p, true, &lit);
		if (t == T_END)
			return 0;
		if (t != T_COMMA)
			return sk_err_set(p->err, EINVAL,
					  "found '%s', expected: ',' or 'end of string'", lit);
		t = peek(p, true, &lit);
		if (t != T_ID && t != T_NOT)
			return sk_err_set(p->err, EINVAL,
					  "found '%s', expected: identifier after ','", lit);
	}
}

int api_label_selector_parse(const char *s, api_selector **out, sk_err *err)
{
	struct lexer l = {s ? s : "", 0, s ? strlen(s) : 0};
	struct parser p = {NULL, 0, 0, err};
	api_selector *sel;
	int ret = 0;

	if (l.len > SEL_MAX_LEN)
		return sk_err_set(err, E2BIG, "label selector is longer than %d bytes",
				  SEL_MAX_LEN);
	/* Scan everything first, as the Go parser does; the token count is
	 * bounded by the input length. */
	for (;;) {
		struct item it = lex(&l);
		p.items = sk_realloc(p.items, (p.n + 1) * sizeof(*p.items));
		p.items[p.n++] = it;
		if (it.tok == T_END)
			break;
		if (it.tok == T_ERROR) {
			ret = sk_err_set(err, EINVAL, "unable to parse requirement: %s", it.lit);
			break;
		}
	}
	sel = sk_calloc(1, sizeof(*sel));
	if (ret == 0)
		ret = parse_items(&p, sel);
	for (size_t i = 0; i < p.n; i++)
		free(p.items[i].lit);
	free(p.items);
	if (ret < 0) {
		api_selector_free(sel);
		return -1;
	}
	sort_reqs(sel);
	*out = sel;
	return 0;
}

/* ---- LabelSelector objects and maps -------------------------------------- */

static int add_checked(api_selector *sel, const char *key, enum sel_op op, char **vals, size_t n,
		       sk_err *err)
{
	if (sel->n >= SEL_MAX_REQS * 4)
		return sk_err_set(err, E2BIG, "too many selector requirements");
	if (check_req(key, op, vals, n, err) < 0)
		return -1;
	add_req(sel, key, op, vals, n);
	return 0;
}

static int add_match_labels(api_selector *sel, json_t *ml, sk_err *err)
{
	const char *key;
	json_t *v;

	if (ml && !json_is_object(ml) && !json_is_null(ml))
		return sk_err_set(err, EINVAL, "matchLabels must be an object");
	json_object_foreach (ml, key, v) {
		char *vals[1] = {(char *)json_string_value(v)};
		if (!vals[0])
			return sk_err_set(err, EINVAL, "matchLabels[%s] must be a string", key);
		if (add_checked(sel, key, OP_EQ, vals, 1, err) < 0)
			return -1;
	}
	return 0;
}

static int add_expression(api_selector *sel, json_t *e, sk_err *err)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *op = json_string_value(json_object_get(e, "operator"));
	json_t *values = json_object_get(e, "values"), *v;
	_cleanup_strv_ char **vals = NULL;
	enum sel_op o;
	size_t i;

	if (!key || !op)
		return sk_err_set(err, EINVAL, "matchExpressions need a key and an operator");
	if (strcmp(op, "In") == 0)
		o = OP_IN;
	else if (strcmp(op, "NotIn") == 0)
		o = OP_NOTIN;
	else if (strcmp(op, "Exists") == 0)
		o = OP_EXISTS;
	else if (strcmp(op, "DoesNotExist") == 0)
		o = OP_NOTEXISTS;
	else
		return sk_err_set(err, EINVAL, "\"%s\" is not a valid label selector operator", op);
	if (values && !json_is_array(values) && !json_is_null(values))
		return sk_err_set(err, EINVAL, "matchExpressions values must be a list");
	if (json_array_size(values) > SEL_MAX_VALUES)
		return sk_err_set(err, E2BIG, "more than %d values in one requirement",
				  SEL_MAX_VALUES);
	json_array_foreach (values, i, v) {
		if (!json_is_string(v))
			return sk_err_set(err, EINVAL, "matchExpressions values must be strings");
		vals = sk_strv_push(vals, json_string_value(v));
	}
	if ((o == OP_EXISTS || o == OP_NOTEXISTS) && sk_strv_len(vals))
		return sk_err_set(err, EINVAL,
				  "values: Invalid value: values set must be empty for exists and "
				  "does not exist");
	return add_checked(sel, key, o, vals, sk_strv_len(vals), err);
}

int api_label_selector_from_json(json_t *ls, api_selector **out, sk_err *err)
{
	api_selector *sel = sk_calloc(1, sizeof(*sel));
	json_t *exprs, *e;
	size_t i;

	if (!ls || json_is_null(ls)) {
		sel->nothing = true;
		*out = sel;
		return 0;
	}
	if (!json_is_object(ls)) {
		api_selector_free(sel);
		return sk_err_set(err, EINVAL, "a label selector must be an object");
	}
	if (add_match_labels(sel, json_object_get(ls, "matchLabels"), err) < 0)
		goto fail;
	exprs = json_object_get(ls, "matchExpressions");
	if (exprs && !json_is_array(exprs) && !json_is_null(exprs)) {
		sk_err_set(err, EINVAL, "matchExpressions must be a list");
		goto fail;
	}
	json_array_foreach (exprs, i, e)
		if (add_expression(sel, e, err) < 0)
			goto fail;
	sort_reqs(sel);
	*out = sel;
	return 0;
fail:
	api_selector_free(sel);
	return -1;
}

int api_label_selector_from_map(json_t *map, api_selector **out, sk_err *err)
{
	api_selector *sel = sk_calloc(1, sizeof(*sel));

	if (add_match_labels(sel, map, err) < 0) {
		api_selector_free(sel);
		return -1;
	}
	sort_reqs(sel);
	*out = sel;
	return 0;
}

/* ---- matching and printing ------------------------------------------------ */

static bool has_value(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool req_matches(const struct req *r, const char *val)
{
	int64_t have, want;

	switch (r->op) {
	case OP_EQ:
	case OP_DEQ:
	case OP_IN:
		return val && has_value(r, val);
	case OP_NEQ:
	case OP_NOTIN:
		return !val || !has_value(r, val);
	case OP_EXISTS:
		return val != NULL;
	case OP_NOTEXISTS:
		return val == NULL;
	case OP_GT:
	case OP_LT:
		if (!val || r->n != 1 ||
		    sk_parse_int64(val, INT64_MIN, INT64_MAX, &have, NULL) < 0 ||
		    sk_parse_int64(r->values[0], INT64_MIN, INT64_MAX, &want, NULL) < 0)
			return false;
		return r->op == OP_GT ? have > want : have < want;
	}
	return false;
}

bool api_label_selector_matches(const api_selector *sel, json_t *labels)
{
	if (!sel || sel->nothing)
		return false;
	for (size_t i = 0; i < sel->n; i++) {
		const char *v = json_string_value(json_object_get(labels, sel->reqs[i].key));
		if (!req_matches(&sel->reqs[i], v))
			return false;
	}
	return true;
}

bool api_selector_empty(const api_selector *sel)
{
	return sel && !sel->nothing && sel->n == 0;
}

static void req_string(sk_buf *b, const struct req *r)
{
	static const char *const ops[] = {
		[OP_EQ] = "=",	     [OP_DEQ] = "==",	     [OP_NEQ] = "!=",
		[OP_IN] = " in ",    [OP_NOTIN] = " notin ", [OP_EXISTS] = "",
		[OP_NOTEXISTS] = "", [OP_GT] = ">",	     [OP_LT] = "<"};

	if (r->op == OP_NOTEXISTS)
		sk_buf_putc(b, '!');
	sk_buf_puts(b, r->key);
	if (r->op == OP_EXISTS || r->op == OP_NOTEXISTS)
		return;
	sk_buf_puts(b, ops[r->op]);
	if (r->op == OP_IN || r->op == OP_NOTIN)
		sk_buf_putc(b, '(');
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			sk_buf_putc(b, ',');
		sk_buf_puts(b, r->values[i]);
	}
	if (r->op == OP_IN || r->op == OP_NOTIN)
		sk_buf_putc(b, ')');
}

char *api_selector_string(const api_selector *sel, bool *nothing)
{
	sk_buf b = {0};

	if (nothing)
		*nothing = !sel || sel->nothing;
	for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
		if (i)
			sk_buf_putc(&b, ',');
		req_string(&b, &sel->reqs[i]);
	}
	return sk_buf_steal(&b);
}

/* ---- field selectors --------------------------------------------------- */

/* The field labels each kind's apiserver conversion function accepts,
 * beyond metadata.name and metadata.namespace. */
static const char *const POD_FIELDS[] = {"spec.nodeName",
					 "spec.restartPolicy",
					 "spec.schedulerName",
					 "spec.serviceAccountName",
					 "spec.hostNetwork",
					 "status.phase",
					 "status.podIP",
					 "status.podIPs",
					 "status.nominatedNodeName",
					 NULL};
static const char *const EVENT_FIELDS[] = {"involvedObject.kind",
					   "involvedObject.namespace",
					   "involvedObject.name",
					   "involvedObject.uid",
					   "involvedObject.apiVersion",
					   "involvedObject.resourceVersion",
					   "involvedObject.fieldPath",
					   "reason",
					   "reportingComponent",
					   "source",
					   "type",
					   NULL};
static const char *const NS_FIELDS[] = {"status.phase", NULL};
static const char *const SECRET_FIELDS[] = {"type", NULL};
static const char *const NODE_FIELDS[] = {"spec.unschedulable", NULL};
static const char *const RS_FIELDS[] = {"status.replicas", NULL};

static const char *const *kind_fields(const api_kind *k)
{
	if (!k)
		return NULL;
	if (!strcmp(k->kind, "Pod"))
		return POD_FIELDS;
	if (!strcmp(k->kind, "Event"))
		return EVENT_FIELDS;
	if (!strcmp(k->kind, "Namespace"))
		return NS_FIELDS;
	if (!strcmp(k->kind, "Secret"))
		return SECRET_FIELDS;
	if (!strcmp(k->kind, "Node"))
		return NODE_FIELDS;
	if (!strcmp(k->kind, "ReplicaSet"))
		return RS_FIELDS;
	return NULL;
}

/* The object path a field label reads. */
static const char *field_path(const char *field)
{
	if (!strcmp(field, "source"))
		return "source.component";
	if (!strcmp(field, "status.podIPs"))
		return "status.podIP";
	return field;
}

static void copy_path(json_t *dst, json_t *src, const char *path)
{
	json_t *v = api_get(src, path);

	if (v)
		api_set(dst, path, json_incref(v));
}

json_t *api_field_set(const api_kind *k, json_t *obj)
{
	json_t *set = json_object();
	const char *const *f = kind_fields(k);

	copy_path(set, obj, "metadata.name");
	copy_path(set, obj, "metadata.namespace");
	for (; f && *f; f++)
		copy_path(set, obj, field_path(*f));
	return set;
}

static bool field_supported(const api_kind *k, const char *field)
{
	const char *const *f = kind_fields(k);

	if (!strcmp(field, "metadata.name") || !strcmp(field, "metadata.namespace"))
		return true;
	for (; f && *f; f++)
		if (!strcmp(*f, field))
			return true;
	return false;
}

/* Undo fields.EscapeValue: "\\", "\," and "\=" are the only escapes. */
static int unescape(const char *s, size_t n, char **out, sk_err *err)
{
	sk_buf b = {0};

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= n ||
			    (s[i + 1] != '\\' && s[i + 1] != ',' && s[i + 1] != '=')) {
				sk_buf_free(&b);
				return sk_err_set(
					err, EINVAL,
					"invalid field selector: invalid escape sequence");
			}
			i++;
		} else if (s[i] == ',' || s[i] == '=') {
			sk_buf_free(&b);
			return sk_err_set(err, EINVAL,
					  "invalid field selector: unescaped %c in value", s[i]);
		}
		sk_buf_putc(&b, s[i]);
	}
	*out = sk_buf_steal(&b);
	return 0;
}

/* One "lhs op rhs" term: the first operator found scanning left to right,
 * trying "!=", "==" and "=" at each position, as fields.splitTerm. */
static int parse_term(api_selector *sel, const char *all, const char *t, size_t n, sk_err *err)
{
	static const struct {
		const char *op;
		enum sel_op sop;
	} ops[] = {{"!=", OP_NEQ}, {"==", OP_DEQ}, {"=", OP_EQ}};

	for (size_t i = 0; i < n; i++) {
		for (size_t o = 0; o < SK_ARRAY_SIZE(ops); o++) {
			size_t ol = strlen(ops[o].op);
			_cleanup_free_ char *lhs = NULL, *rhs = NULL;
			if (i + ol > n || memcmp(t + i, ops[o].op, ol) != 0)
				continue;
			lhs = sk_strndup(t, i);
			if (unescape(t + i + ol, n - i - ol, &rhs, err) < 0)
				return -1;
			if (!field_supported(sel->kind, lhs))
				return sk_err_set(err, EINVAL, "field label not supported: %s",
						  lhs);
			char *vals[1] = {rhs};
			add_req(sel, lhs, ops[o].sop, vals, 1);
			return 0;
		}
	}
	return sk_err_set(err, EINVAL, "invalid selector: '%s'; can't understand '%.*s'", all,
			  (int)n, t);
}

int api_field_selector_parse(const api_kind *k, const char *s, api_selector **out, sk_err *err)
{
	api_selector *sel;
	size_t len = s ? strlen(s) : 0, start = 0;

	if (len > SEL_MAX_LEN)
		return sk_err_set(err, E2BIG, "field selector is longer than %d bytes",
				  SEL_MAX_LEN);
	sel = sk_calloc(1, sizeof(*sel));
	sel->kind = k;
	/* Terms split on unescaped commas. */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] == '\\') {
			i++;
			continue;
		}
		if (i < len && s[i] != ',')
			continue;
		if (i > start) {
			if (sel->n >= SEL_MAX_REQS) {
				sk_err_set(err, E2BIG, "more than %d requirements", SEL_MAX_REQS);
				goto fail;
			}
			if (parse_term(sel, s, s + start, i - start, err) < 0)
				goto fail;
		}
		start = i + 1;
	}
	sort_reqs(sel);
	*out = sel;
	return 0;
fail:
	api_selector_free(sel);
	return -1;
}

/* The value of a field label on obj as the apiserver's field sets give
 * it: strings as they are, booleans and integers printed, absent as "". */
static char *field_value(json_t *obj, const char *field)
{
	json_t *v;

	field = field_path(field);
	v = api_get(obj, field);
	if (json_is_string(v))
		return sk_strdup(json_string_value(v));
	if (json_is_boolean(v))
		return sk_strdup(json_is_true(v) ? "true" : "false");
	if (json_is_integer(v))
		return sk_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	/* Absent booleans and counters print as their zero value. */
	if (!strcmp(field, "spec.hostNetwork") || !strcmp(field, "spec.unschedulable"))
		return sk_strdup("false");
	if (!strcmp(field, "status.replicas"))
		return sk_strdup("0");
	return sk_strdup("");
}

bool api_field_selector_matches(const api_selector *sel, json_t *obj)
{
	if (!sel || sel->nothing)
		return false;
	for (size_t i = 0; i < sel->n; i++) {
		_cleanup_free_ char *v = field_value(obj, sel->reqs[i].key);
		if (!req_matches(&sel->reqs[i], v))
			return false;
	}
	return true;
}
