/* Unit tests for api/patch.c and api/smp.c: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902), strategic merge patch as the apiserver applies
 * it, and kubectl's three-way apply patch. Expected results come from
 * the RFCs' examples and from Kubernetes' behaviour. */
#include <errno.h>
#include <stdlib.h>

#include "../../api/api.h"
#include "apply_golden.h"
#include "smp_golden.h"
#include "tap.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);

	if (!j) {
		printf("# bad test JSON: %s: %s\n", s, e.text);
		abort();
	}
	return j;
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Normalise an expected JSON text through jansson so key order and
 * spacing do not matter. */
static char *norm(const char *s)
{
	json_t *j = J(s);
	char *d = dump(j);

	json_decref(j);
	return d;
}

enum which { MERGE, JSONP, SMP };

static void check_patch(enum which w, const api_kind *k, const char *doc, const char *patch,
			const char *want, const char *name)
{
	json_t *d = J(doc), *p = J(patch), *out = NULL;
	sk_err err = {0};
	int ret;
	_cleanup_free_ char *before = dump(d), *got = NULL, *exp = NULL, *after = NULL;

	if (w == MERGE)
		ret = api_merge_patch(d, p, &out, &err);
	else if (w == JSONP)
		ret = api_json_patch(d, p, &out, &err);
	else
		ret = api_strategic_merge_patch(k, d, p, &out, &err);
	after = dump(d);
	if (ret < 0) {
		got = sk_asprintf("error: %s", err.msg);
		if (sk_startswith(want, "error:")) {
			like(got, want + 7, "%s", name);
			goto out;
		}
	} else {
		got = dump(out);
	}
	exp = sk_startswith(want, "error:") ? sk_strdup(want) : norm(want);
	is_str(got, exp, "%s", name);
	if (strcmp(before, after) != 0)
		ok(0, "%s: the input document was modified", name);
out:
	json_decref(d);
	json_decref(p);
	json_decref(out);
}

static void check_apply(const api_kind *k, const char *original, const char *modified,
			const char *live, const char *want, const char *name)
{
	json_t *o = original ? J(original) : NULL, *m = J(modified), *l = J(live), *p = NULL;
	sk_err err = {0};
	_cleanup_free_ char *got = NULL, *exp = norm(want);

	if (api_apply_patch(k, o, m, l, &p, &err) < 0)
		got = sk_asprintf("error: %s", err.msg);
	else
		got = dump(p);
	is_str(got, exp, "%s", name);
	json_decref(o);
	json_decref(m);
	json_decref(l);
	json_decref(p);
}

static void test_merge_patch(void)
{
	/* RFC 7386 appendix A */
	static const char *const cases[][3] = {
		{"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
		{"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
		{"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
		{"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
		{"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
		{"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
		{"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		 "{\"a\":{\"b\":\"d\"}}"},
		{"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
		{"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
		{"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
	};

	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		char name[64];
		snprintf(name, sizeof(name), "merge patch: RFC 7386 example %zu", i + 1);
		check_patch(MERGE, NULL, cases[i][0], cases[i][1], cases[i][2], name);
	}
	check_patch(MERGE, NULL, "{}", "[1]", "error: must be an object",
		    "merge patch: not an object");
	check_patch(MERGE, NULL,
		    "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}},\"spec\":{}}",
		    "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}",
		    "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\",\"x\":\"y\"}},"
		    "\"spec\":{}}",
		    "merge patch: kubectl label");
}

static void test_json_patch(void)
{
	const char *doc = "{\"foo\":\"bar\",\"arr\":[1,2,3],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1}}";

	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
		    "{\"foo\":\"bar\",\"arr\":[1,2,3],\"a/"
		    "b\":1,\"m~n\":2,\"o\":{\"p\":1},\"baz\":\"qux\"}",
		    "json patch: add a member");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/arr/1\",\"value\":9}]",
		    "{\"foo\":\"bar\",\"arr\":[1,9,2,3],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1}}",
		    "json patch: add inserts into an array");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/arr/-\",\"value\":4}]",
		    "{\"foo\":\"bar\",\"arr\":[1,2,3,4],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1}}",
		    "json patch: \"-\" appends");
	check_patch(
		JSONP, NULL, doc,
		"[{\"op\":\"remove\",\"path\":\"/a~1b\"},{\"op\":\"remove\",\"path\":\"/m~0n\"}]",
		"{\"foo\":\"bar\",\"arr\":[1,2,3],\"o\":{\"p\":1}}",
		"json patch: ~1 and ~0 escapes");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"replace\",\"path\":\"/arr/0\",\"value\":0}]",
		    "{\"foo\":\"bar\",\"arr\":[0,2,3],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1}}",
		    "json patch: replace an element");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"move\",\"from\":\"/foo\",\"path\":\"/o/q\"}]",
		    "{\"arr\":[1,2,3],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1,\"q\":\"bar\"}}",
		    "json patch: move");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"copy\",\"from\":\"/o\",\"path\":\"/o2\"}]",
		    "{\"foo\":\"bar\",\"arr\":[1,2,3],\"a/"
		    "b\":1,\"m~n\":2,\"o\":{\"p\":1},\"o2\":{\"p\":1}}",
		    "json patch: copy");
	check_patch(JSONP, NULL, doc,
		    "[{\"op\":\"test\",\"path\":\"/"
		    "foo\",\"value\":\"bar\"},{\"op\":\"remove\",\"path\":\"/foo\"}]",
		    "{\"arr\":[1,2,3],\"a/b\":1,\"m~n\":2,\"o\":{\"p\":1}}",
		    "json patch: test passes");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"test\",\"path\":\"/foo\",\"value\":\"baz\"}]",
		    "error: testing value /foo failed", "json patch: test fails");
	check_patch(JSONP, NULL, "{\"metadata\":{}}",
		    "[{\"op\":\"replace\",\"path\":\"/metadata/annotations\",\"value\":{}}]",
		    "error: replace operation does not apply: doc is missing key: "
		    "/metadata/annotations",
		    "json patch: replace of a missing key (kubectl rollout undo)");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]",
		    "error: add operation does not apply: doc is missing path",
		    "json patch: add under a missing parent");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/arr/7\",\"value\":1}]",
		    "error: index out of bounds", "json patch: index out of bounds");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"add\",\"path\":\"/arr/01\",\"value\":1}]",
		    "error: index out of bounds", "json patch: leading zero index");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"move\",\"from\":\"/o\",\"path\":\"/o/x\"}]",
		    "error: is a prefix of", "json patch: move into a child");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"frob\",\"path\":\"/foo\"}]",
		    "error: Unexpected kind: frob", "json patch: unknown op");
	check_patch(JSONP, NULL, doc, "{\"op\":\"add\"}", "error: must be a list",
		    "json patch: not a list");
	check_patch(JSONP, NULL, doc, "[{\"op\":\"remove\",\"path\":\"foo\"}]",
		    "error: must start with '/'", "json patch: relative path");

	/* Exponential growth through copy is bounded. */
	{
		json_t *ops = json_array(), *d = J("{\"a\":[1,2,3,4,5,6,7,8]}"), *out = NULL;
		sk_err err = {0};
		for (int i = 0; i < 40; i++)
			json_array_append_new(
				ops, J("{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/-\"}"));
		is_int(api_json_patch(d, ops, &out, &err), -1, "json patch: copy bomb is refused");
		is_int(err.code, E2BIG, "json patch: copy bomb gives E2BIG");
		json_decref(ops);
		json_decref(d);
	}
}

static const char *DEPLOY =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
	"\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"RollingUpdate\","
	"\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},\"template\":{"
	"\"metadata\":"
	"{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
	"\"nginx:1.19\","
	"\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"A\","
	"\"value\":\"1\"}]},"
	"{\"name\":\"side\",\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}"
	"}}}";

static void test_smp(void)
{
	const api_kind *dk = api_kind_by_kind("apps", "Deployment");
	const api_kind *sk = api_kind_by_kind("", "Service");
	json_t *d = J(DEPLOY);
	_cleanup_free_ char *base = dump(d);
	json_decref(d);

	check_patch(SMP, dk, DEPLOY,
		    "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/"
		    "containers\":[{\"name\":\"c\"},"
		    "{\"name\":\"side\"}],\"containers\":[{\"image\":\"nginx:1.20\",\"name\":\"c\"}"
		    "]}}}}",
		    "{\"apiVersion\":\"apps/"
		    "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		    "\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1,\"strategy\":{\"type\":"
		    "\"RollingUpdate\","
		    "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},"
		    "\"template\":{\"metadata\":"
		    "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		    "\"image\":\"nginx:1.20\","
		    "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":"
		    "\"A\",\"value\":\"1\"}]},"
		    "{\"name\":\"side\",\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"v\","
		    "\"emptyDir\":{}}]}}}}",
		    "smp: kubectl set image merges containers by name, ports and env survive");
	check_patch(SMP, dk, DEPLOY,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"side\",\"$"
		    "patch\":\"delete\"}]}}}}",
		    "{\"apiVersion\":\"apps/"
		    "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		    "\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1,\"strategy\":{\"type\":"
		    "\"RollingUpdate\","
		    "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},"
		    "\"template\":{\"metadata\":"
		    "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		    "\"image\":\"nginx:1.19\","
		    "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":"
		    "\"A\",\"value\":\"1\"}]}],"
		    "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}",
		    "smp: $patch delete removes a list element by merge key");
	check_patch(
		SMP, dk, DEPLOY,
		"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{"
		"\"name\":\"B\",\"value\":\"2\"}],"
		"\"ports\":[{\"containerPort\":443}]}]}}}}",
		"{\"apiVersion\":\"apps/"
		"v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		"\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1,\"strategy\":{\"type\":"
		"\"RollingUpdate\","
		"\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},\"template\":"
		"{\"metadata\":"
		"{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		"\"image\":\"nginx:1.19\","
		"\"ports\":[{\"containerPort\":443},{\"containerPort\":80,\"protocol\":\"TCP\"}],"
		"\"env\":[{\"name\":\"B\",\"value\":\"2\"},{\"name\":\"A\",\"value\":\"1\"}]},"
		"{\"name\":\"side\",\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"v\","
		"\"emptyDir\":{}}]}}}}",
		"smp: env by name and ports by containerPort; new items first as Kubernetes orders "
		"them");
	check_patch(SMP, dk, DEPLOY,
		    "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
		    "{\"apiVersion\":\"apps/"
		    "v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		    "\"finalizers\":[\"a\"]},\"spec\":{\"replicas\":1,\"strategy\":{\"type\":"
		    "\"Recreate\"},"
		    "\"template\":{\"metadata\":"
		    "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		    "\"image\":\"nginx:1.19\","
		    "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":"
		    "\"A\",\"value\":\"1\"}]},"
		    "{\"name\":\"side\",\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"v\","
		    "\"emptyDir\":{}}]}}}}",
		    "smp: $retainKeys drops the keys it does not list");
	check_patch(SMP, dk, "{\"spec\":{\"strategy\":{\"type\":\"A\"}}}",
		    "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":{}}}}",
		    "error: invalid patch format of retainKeys",
		    "smp: $retainKeys must list the patch's keys");
	check_patch(SMP, dk, "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
		    "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"b\"]}}", "smp: $deleteFromPrimitiveList");
	check_patch(SMP, dk, "{\"metadata\":{\"finalizers\":[\"a\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}",
		    "smp: finalizers merge as a set");
	check_patch(SMP, dk, "{\"metadata\":{\"finalizers\":[\"a\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"b\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}",
		    "smp: a new set member goes first, as Kubernetes does");
	check_patch(SMP, dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":"
		    "\"b\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"z\"}],\"$"
		    "patch\":\"replace\"}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"z\"}]}}}}",
		    "smp: $patch replace on a map");
	check_patch(SMP, dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":"
		    "\"b\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"z\"},{\"$"
		    "patch\":\"replace\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"z\"}]}}}}",
		    "smp: $patch replace in a list");
	check_patch(SMP, dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":"
		    "\"b\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/"
		    "containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":"
		    "\"a\"}]}}}}",
		    "smp: $setElementOrder reorders");
	check_patch(SMP, dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"a\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}}}",
		    "smp: tolerations have no merge key: replaced");
	check_patch(SMP, dk, "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
		    "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}}}",
		    "{\"metadata\":{\"labels\":{\"b\":\"2\",\"c\":\"3\"}}}",
		    "smp: null deletes a key");
	check_patch(
		SMP, sk,
		"{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8888,\"protocol\":\"TCP\"}]}}",
		"{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9999}]}}",
		"{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9999,\"protocol\":\"TCP\"}]}}",
		"smp: service ports merge by port");
	check_patch(SMP, dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}",
		    "error: does not contain declared merge key: name",
		    "smp: list item without merge key");
	check_patch(SMP, dk, "{\"spec\":{}}", "{\"spec\":{\"$patch\":\"frob\"}}",
		    "error: unknown patch type: frob", "smp: unknown directive");
	check_patch(SMP, dk, "{\"a\":1}", "{\"b\":{\"$setElementOrder/x\":[1],\"x\":[1]}}",
		    "{\"a\":1,\"b\":{\"x\":[1]}}",
		    "smp: directives left where nothing merged are dropped");
	check_patch(SMP, dk, DEPLOY, "[]", "error: must be an object", "smp: patch not an object");
	check_patch(SMP, NULL, "{\"l\":[1,2]}", "{\"l\":[3]}", "{\"l\":[3]}",
		    "smp: unknown kind: lists are atomic");
	d = J(DEPLOY);
	{
		_cleanup_free_ char *after = dump(d);
		is_str(after, base, "smp: inputs are not modified");
	}
	json_decref(d);
}

static void test_apply(void)
{
	const api_kind *dk = api_kind_by_kind("apps", "Deployment");
	const api_kind *sk = api_kind_by_kind("", "Service");
	json_t *cfg =
		J("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\","
		  "\"namespace\":\"default\"},\"spec\":{\"selector\":{\"app\":\"a&b\"},\"ports\":"
		  "[{\"port\":80,\"targetPort\":8888,\"protocol\":\"TCP\"}]}}");
	json_t *mod = api_apply_modified(cfg);
	const char *la = api_meta_annotation(mod, API_LAST_APPLIED);

	is_str(la,
	       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},"
	       "\"name\":\"s\","
	       "\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\","
	       "\"targetPort\":8888}],\"selector\":{\"app\":\"a\\u0026b\"}}}\n",
	       "apply: last-applied is kubectl's encoding (sorted, annotations {}, HTML escapes, "
	       "newline)");
	ok(!api_meta_annotation(cfg, API_LAST_APPLIED), "apply: the config itself is not changed");

	/* The second apply of COMPAT.md: image and replicas changed. */
	const char *v1 =
		"{\"apiVersion\":\"apps/"
		"v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},"
		"\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":1,\"selector\":"
		"{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
		"\"app\":\"web\"}},"
		"\"spec\":{\"containers\":[{\"image\":\"nginx:1.19\",\"name\":\"c\"}]}}}}";
	const char *v2 =
		"{\"apiVersion\":\"apps/"
		"v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},"
		"\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":2,\"selector\":"
		"{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
		"\"app\":\"web\"}},"
		"\"spec\":{\"containers\":[{\"image\":\"nginx:1.20\",\"name\":\"c\"}]}}}}";
	const char *live =
		"{\"apiVersion\":\"apps/"
		"v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},"
		"\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u\",\"generation\":1},"
		"\"spec\":{\"replicas\":1,"
		"\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"revisionHistoryLimit\":10,"
		"\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%\","
		"\"maxUnavailable\":\"25%\"}},"
		"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
		"\"containers\":[{\"image\":\"nginx:1.19\","
		"\"name\":\"c\",\"imagePullPolicy\":\"IfNotPresent\",\"resources\":{}}],"
		"\"restartPolicy\":\"Always\"}}},"
		"\"status\":{\"replicas\":1}}";
	check_apply(
		dk, v1, v2, live,
		"{\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"$setElementOrder/containers\":"
		"[{\"name\":\"c\"}],\"containers\":[{\"image\":\"nginx:1.20\",\"name\":\"c\"}]}}}}",
		"apply: changed image and replicas give kubectl's patch");
	check_apply(dk, v1, v1, live, "{}", "apply: unchanged configuration gives {}");
	check_apply(dk, NULL, v1, live, "{}",
		    "apply: no last-applied, same fields: nothing but defaults differ");
	check_apply(dk, "{\"metadata\":{\"name\":\"web\",\"labels\":{\"x\":\"1\",\"y\":\"2\"}}}",
		    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"y\":\"2\"}}}",
		    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"x\":\"1\",\"y\":\"2\",\"z\":"
		    "\"server\"}}}",
		    "{\"metadata\":{\"labels\":{\"x\":null}}}",
		    "apply: a field dropped from the file is deleted, server-added ones stay");
	check_apply(dk,
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
		    "\"i\"},{\"name\":\"b\",\"image\":\"i\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
		    "\"i\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
		    "\"i\",\"tty\":false},"
		    "{\"name\":\"b\",\"image\":\"i\"}]}}}}",
		    "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/"
		    "containers\":[{\"name\":\"a\"}],"
		    "\"containers\":[{\"$patch\":\"delete\",\"name\":\"b\"}]}}}}",
		    "apply: a container dropped from the file is deleted by merge key");
	check_apply(dk, "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\"}}}",
		    "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}",
		    "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
		    "\"maxSurge\":\"25%\"}}}}",
		    "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
		    "apply: strategy change carries $retainKeys");
	check_apply(sk, "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8888}]}}",
		    "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9999}]}}",
		    "{\"spec\":{\"clusterIP\":\"10.96.0.5\",\"ports\":[{\"port\":80,\"targetPort\":"
		    "8888,\"protocol\":\"TCP\"}]}}",
		    "{\"spec\":{\"$setElementOrder/"
		    "ports\":[{\"port\":80}],\"ports\":[{\"port\":80,\"targetPort\":9999}]}}",
		    "apply: service port change keeps server defaults (clusterIP, protocol)");
	check_apply(dk, "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"a\"]}}",
		    "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
		    "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"],"
		    "\"$setElementOrder/finalizers\":[\"a\"]}}",
		    "apply: a primitive set member removed");

	/* Applying the patch to live gives the new configuration's fields. */
	{
		json_t *o = J(v1), *m = J(v2), *l = J(live), *p = NULL, *res = NULL;
		sk_err err = {0};
		ok(api_apply_patch(dk, o, m, l, &p, &err) == 0 &&
			   api_strategic_merge_patch(dk, l, p, &res, &err) == 0,
		   "apply: round trip through the server-side patch");
		is_str(api_get_str(json_array_get(api_get(res, "spec.template.spec.containers"), 0),
				   "image"),
		       "nginx:1.20", "apply: round trip image");
		is_str(api_get_str(json_array_get(api_get(res, "spec.template.spec.containers"), 0),
				   "imagePullPolicy"),
		       "IfNotPresent", "apply: round trip keeps server defaults");
		is_int(api_get_int(res, "spec.replicas", 0), 2, "apply: round trip replicas");
		json_decref(o);
		json_decref(m);
		json_decref(l);
		json_decref(p);
		json_decref(res);
	}
	json_decref(cfg);
	json_decref(mod);
}

/* kubectl 1.33's own apply patches (apply_golden.h): skiff computes the
 * same patch from the same live object and configuration. */
static void test_apply_golden(void)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(APPLY_GOLDEN); i++) {
		const api_kind *k = api_kind_by_kind(NULL, APPLY_GOLDEN[i].kind);
		json_t *live = J(APPLY_GOLDEN[i].live), *cfg = J(APPLY_GOLDEN[i].config);
		json_t *want = J(APPLY_GOLDEN[i].patch), *orig = NULL, *mod, *got = NULL;
		const char *la = api_meta_annotation(live, API_LAST_APPLIED);
		sk_err err = {0};

		if (la)
			orig = J(la);
		mod = api_apply_modified(cfg);
		if (api_apply_patch(k, orig, mod, live, &got, &err) < 0) {
			ok(0, "kubectl golden apply %zu (%s): %s", i, APPLY_GOLDEN[i].kind,
			   err.msg);
		} else {
			_cleanup_free_ char *g = dump(got), *w = dump(want);
			is_str(g, w, "kubectl golden apply %zu (%s)", i, APPLY_GOLDEN[i].kind);
		}
		json_decref(live);
		json_decref(cfg);
		json_decref(want);
		json_decref(orig);
		json_decref(mod);
		json_decref(got);
	}
}

/* kubectl 1.33's strategic merge patch (smp_golden.h). */
static void test_smp_golden(void)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(SMP_GOLDEN); i++) {
		char name[64];
		snprintf(name, sizeof(name), "kubectl golden smp %zu (%s)", i, SMP_GOLDEN[i].kind);
		check_patch(SMP, api_kind_by_kind(NULL, SMP_GOLDEN[i].kind), SMP_GOLDEN[i].doc,
			    SMP_GOLDEN[i].patch, SMP_GOLDEN[i].want, name);
	}
}

int main(void)
{
	test_merge_patch();
	test_json_patch();
	test_smp();
	test_apply();
	test_apply_golden();
	test_smp_golden();
	return done_testing();
}
