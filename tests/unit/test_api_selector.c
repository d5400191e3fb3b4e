/* Unit tests for api/selector.c: label selectors as labels.Parse and
 * metav1.LabelSelector do them, field selectors as fields.ParseSelector
 * with each kind's supported labels. */
#include <errno.h>
#include <stdlib.h>

#include "../../api/api.h"
#include "tap.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);

	if (!j) {
		printf("# bad test JSON: %s\n", s);
		abort();
	}
	return j;
}

/* Parse sel and report whether it matches the labels (JSON), or the
 * error message. */
static void check_match(const char *sel, const char *labels, int want, const char *name)
{
	_cleanup_selector_ api_selector *s = NULL;
	sk_err err = {0};
	json_t *l = labels ? J(labels) : NULL;

	if (api_label_selector_parse(sel, &s, &err) < 0) {
		ok(0, "%s: parse failed: %s", name, err.msg);
	} else {
		is_int(api_label_selector_matches(s, l), want, "%s", name);
	}
	json_decref(l);
}

static void check_string(const char *sel, const char *want)
{
	_cleanup_selector_ api_selector *s = NULL;
	_cleanup_free_ char *got = NULL;
	sk_err err = {0};

	if (api_label_selector_parse(sel, &s, &err) < 0) {
		ok(0, "string of \"%s\": parse failed: %s", sel, err.msg);
		return;
	}
	got = api_selector_string(s, NULL);
	is_str(got, want, "canonical string of \"%s\"", sel);
}

static void check_error(const char *sel, const char *want)
{
	_cleanup_selector_ api_selector *s = NULL;
	sk_err err = {0};

	if (api_label_selector_parse(sel, &s, &err) == 0) {
		ok(0, "\"%s\" should not parse", sel);
		return;
	}
	like(err.msg, want, "\"%s\" is refused", sel);
}

static void test_label_parse(void)
{
	const char *web = "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\"}";

	check_match("", web, 1, "empty selects everything");
	check_match("app=web", web, 1, "=");
	check_match("app==web", web, 1, "==");
	check_match("app!=web", web, 0, "!= on equal value");
	check_match("app!=db", web, 1, "!= on other value");
	check_match("missing!=x", web, 1, "!= on a missing key matches");
	check_match("app in (db, web)", web, 1, "in");
	check_match("app notin (db,web)", web, 0, "notin");
	check_match("missing notin (a)", web, 1, "notin on a missing key matches");
	check_match("tier", web, 1, "exists");
	check_match("!tier", web, 0, "does not exist");
	check_match("!canary", web, 1, "!key on a missing key");
	check_match("app=web,tier=back", web, 0, "conjunction");
	check_match("  app = web , tier in ( front )  ", web, 1, "whitespace");
	check_match("n>4,n<6", web, 1, "gt and lt");
	check_match("app=web", NULL, 0, "no labels");
	check_match("app=", "{\"app\":\"\"}", 1, "empty value");
	check_match("x in (in,notin)", "{\"x\":\"in\"}", 1, "in and notin as values");
	check_match("example.com/role=db", "{\"example.com/role\":\"db\"}", 1, "prefixed key");

	check_string("tier in (b,a),app=web,!z", "app=web,tier in (a,b),!z");
	check_string("b,a==1,c!=2", "a==1,b,c!=2");

	check_error("app=web,", "expected: identifier after ','");
	check_error("app in web", "expected: '('");
	check_error("app in (a b)", "expected: ',' or ')'");
	check_error("=web", "expected: !, identifier, or 'end of string'");
	check_error("app=web)", "expected: ',' or 'end of string'");
	check_error("a b", "found 'b', expected: in, notin, =, ==, !=, gt, lt");
	check_error("Bad Key=1", "unable to parse requirement");
	check_error("app=a b", "found 'b', expected: ',' or 'end of string'");
	check_error("app=-x", "values[0][app]: Invalid value: \"-x\": a valid label must be");
	check_error("x/y/z=1", "invalid label key \"x/y/z\"");
	check_error("n>a", "the value must be an integer");
	check_error("app!!=x", "unable to parse requirement");

	/* Bounded: a huge selector is refused, not parsed. */
	{
		size_t n = 20000;
		char *big = malloc(n + 1);
		_cleanup_selector_ api_selector *s = NULL;
		sk_err err = {0};
		memset(big, 'a', n);
		big[n] = 0;
		is_int(api_label_selector_parse(big, &s, &err), -1, "a 20 kB selector is refused");
		is_int(err.code, E2BIG, "with E2BIG");
		free(big);
	}
}

static void test_label_selector_objects(void)
{
	_cleanup_selector_ api_selector *s = NULL, *nil = NULL, *all = NULL, *m = NULL;
	json_t *ls = J("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
		       "\"operator\":\"In\",\"values\":[\"front\",\"edge\"]},{\"key\":\"canary\","
		       "\"operator\":\"DoesNotExist\"}]}");
	json_t *lab = J("{\"app\":\"web\",\"tier\":\"edge\"}");
	json_t *bad = J("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Like\"}]}");
	json_t *empty = J("{}");
	_cleanup_free_ char *str = NULL;
	bool nothing = false;
	sk_err err = {0};

	ok(api_label_selector_from_json(ls, &s, &err) == 0, "LabelSelector parses");
	ok(api_label_selector_matches(s, lab), "LabelSelector matches");
	json_object_set_new(lab, "canary", json_string("1"));
	ok(!api_label_selector_matches(s, lab), "DoesNotExist excludes");
	str = api_selector_string(s, &nothing);
	is_str(str, "app=web,!canary,tier in (edge,front)",
	       "LabelSelector as a string (sorted by key)");
	ok(!nothing, "it selects something");

	ok(api_label_selector_from_json(NULL, &nil, &err) == 0 &&
		   !api_label_selector_matches(nil, lab),
	   "a nil LabelSelector matches nothing");
	ok(api_label_selector_from_json(empty, &all, &err) == 0 &&
		   api_label_selector_matches(all, lab) && api_selector_empty(all),
	   "an empty LabelSelector matches everything");
	ok(api_label_selector_from_json(bad, &m, &err) < 0, "unknown operator refused");
	like(err.msg, "\"Like\" is not a valid label selector operator", "its message");
	json_decref(ls);
	json_decref(lab);
	json_decref(bad);
	json_decref(empty);

	{
		_cleanup_selector_ api_selector *svc = NULL;
		json_t *map = J("{\"app\":\"test-app\"}");
		json_t *l1 = J("{\"app\":\"test-app\",\"x\":\"y\"}");
		ok(api_label_selector_from_map(map, &svc, &err) == 0 &&
			   api_label_selector_matches(svc, l1),
		   "a Service's map selector");
		json_decref(map);
		json_decref(l1);
	}
}

static void check_field(const char *kind, const char *sel, const char *obj, int want,
			const char *name)
{
	const api_kind *k = api_kind_by_kind(NULL, kind);
	_cleanup_selector_ api_selector *s = NULL;
	sk_err err = {0};
	json_t *o = J(obj);

	if (api_field_selector_parse(k, sel, &s, &err) < 0)
		ok(0, "%s: %s", name, err.msg);
	else
		is_int(api_field_selector_matches(s, o), want, "%s", name);
	json_decref(o);
}

static void test_field(void)
{
	const char *pod =
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":"
		"{\"nodeName\":\"n1\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\"}}";
	const char *ev =
		"{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},\"involvedObject\":"
		"{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\",\"kind\":\"Pod\"},"
		"\"source\":{\"component\":\"kubelet\"},\"type\":\"Normal\"}";
	_cleanup_selector_ api_selector *s = NULL;
	sk_err err = {0};

	check_field("Pod", "metadata.name=p", pod, 1, "metadata.name=");
	check_field("Pod", "metadata.name==q", pod, 0, "metadata.name== other");
	check_field("Pod", "spec.nodeName=n1,status.phase!=Pending", pod, 1, "nodeName and phase");
	check_field("Pod", "spec.nodeName=", pod, 0, "empty nodeName: unscheduled pods only");
	check_field("Pod", "spec.hostNetwork=true", pod, 1, "booleans print as true/false");
	check_field("Pod", "", pod, 1, "empty field selector");
	check_field("Event",
		    "involvedObject.name=p,involvedObject.namespace=default,involvedObject.uid=u1",
		    ev, 1, "kubectl describe's event selector");
	check_field("Event", "involvedObject.kind=Deployment", ev, 0, "involvedObject.kind");
	check_field("Event", "source=kubelet,type=Normal", ev, 1, "source and type");
	check_field("Deployment", "metadata.name=web", "{\"metadata\":{\"name\":\"web\"}}", 1,
		    "rollout status's selector");
	check_field("Secret", "metadata.name=a\\,b", "{\"metadata\":{\"name\":\"a,b\"}}", 1,
		    "escaped comma");

	{
		const api_kind *pk = api_kind_by_kind(NULL, "Pod");
		json_t *o = J(pod), *set = api_field_set(pk, o);
		_cleanup_selector_ api_selector *fs = NULL;
		ok(!api_get(set, "spec.containers") && api_get(set, "spec.nodeName"),
		   "field set keeps only the selectable fields");
		ok(api_field_selector_parse(
			   pk, "spec.nodeName=n1,status.phase=Running,spec.hostNetwork=true", &fs,
			   &err) == 0 &&
			   api_field_selector_matches(fs, set) ==
				   api_field_selector_matches(fs, o) &&
			   api_field_selector_matches(fs, set),
		   "the field set matches as the object does");
		json_decref(o);
		json_decref(set);
	}
	ok(api_field_selector_parse(api_kind_by_kind(NULL, "Service"), "spec.nodeName=x", &s,
				    &err) < 0,
	   "unsupported field refused");
	is_str(err.msg, "field label not supported: spec.nodeName", "its message");
	ok(api_field_selector_parse(api_kind_by_kind(NULL, "Pod"), "metadata.name", &s, &err) < 0,
	   "a term without operator is refused");
	like(err.msg, "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
	     "its message");
	ok(api_field_selector_parse(api_kind_by_kind(NULL, "Pod"), "metadata.name=a\\x", &s, &err) <
		   0,
	   "bad escape refused");
}

int main(void)
{
	test_label_parse();
	test_label_selector_objects();
	test_field();
	return done_testing();
}
