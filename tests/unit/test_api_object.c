/* Unit tests for api/kinds.c, api/object.c and api/status.c: the kind
 * registry and kubectl-style name resolution, metadata helpers, and the
 * Status shapes of shared/kubectl/shapes. */
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

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
}

/* Compare a built object with an expected JSON text, key order aside. */
static void same_json(json_t *got, const char *want, const char *name)
{
	json_t *w = J(want);
	_cleanup_free_ char *g = dump(got), *ws = dump(w);

	is_str(g, ws, "%s", name);
	json_decref(w);
	json_decref(got);
}

static void resolves(const char *word, const char *resource)
{
	const api_kind *k = api_kind_resolve(word);

	is_str(k ? k->resource : NULL, resource, "\"%s\" resolves to %s", word,
	       resource ? resource : "nothing");
}

static void test_registry(void)
{
	size_t n;
	const api_kind *all = api_kinds(&n);
	const api_kind *deploy = api_kind_by_kind("apps", "Deployment");
	char buf[128];

	is_int(n, 13, "thirteen kinds");
	ok(all[0].resource && !strcmp(all[0].group, ""), "core kinds first");
	resolves("po", "pods");
	resolves("pod", "pods");
	resolves("pods", "pods");
	resolves("Pod", "pods");
	resolves("svc", "services");
	resolves("ep", "endpoints");
	resolves("cm", "configmaps");
	resolves("ns", "namespaces");
	resolves("no", "nodes");
	resolves("ev", "events");
	resolves("pv", "persistentvolumes");
	resolves("pvc", "persistentvolumeclaims");
	resolves("rs", "replicasets");
	resolves("deploy", "deployments");
	resolves("deployments.apps", "deployments");
	resolves("deployment.apps", "deployments");
	resolves("deployments.v1.apps", "deployments");
	resolves("leases.coordination.k8s.io", "leases");
	resolves("lease", "leases");
	resolves("secrets", "secrets");
	resolves("pods.apps", NULL);
	resolves("frobs", NULL);
	resolves("", NULL);

	ok(deploy && deploy->namespaced && !strcmp(deploy->api_version, "apps/v1"),
	   "Deployment: apps/v1, namespaced");
	ok(api_kind_subresource(deploy, "scale") &&
		   !strcmp(api_kind_subresource(deploy, "scale")->group, "autoscaling"),
	   "deployments/scale is autoscaling/v1 Scale");
	ok(!api_kind_by_kind(NULL, "Namespace")->namespaced, "namespaces are cluster-scoped");
	ok(api_kind_by_kind(NULL, "Pod")->categories[0] &&
		   !strcmp(api_kind_by_kind(NULL, "Pod")->categories[0], "all"),
	   "pods are in category all");
	ok(!api_kind_by_kind(NULL, "Endpoints")->categories[0], "endpoints are not in all");
	is_str(api_kind_qualified_resource(deploy, buf, sizeof(buf)), "deployments.apps",
	       "qualified resource");
	api_kind_storage_version_hash(api_kind_by_kind(NULL, "Pod"), buf, sizeof(buf));
	is_str(buf, "xPOwRZ+Yhw8=", "storageVersionHash of pods matches the apiserver's");
	ok(api_kind_by_gvk("apps/v1", "ReplicaSet") && !api_kind_by_gvk("apps/v2", "ReplicaSet") &&
		   !api_kind_by_gvk("v1", "Deployment"),
	   "lookup by apiVersion and kind");
	ok(api_kind_by_resource("", "services") == api_kind_by_kind("", "Service"),
	   "lookup by resource");

	{
		json_t *o = J("{\"apiVersion\":\"apps/v2\",\"kind\":\"Deployment\"}");
		json_t *o2 = J("{\"metadata\":{}}");
		sk_err err = {0};
		ok(api_kind_check(deploy, o, &err) < 0, "wrong apiVersion is refused");
		is_str(err.msg,
		       "the API version in the data (apps/v2) does not match the expected API "
		       "version "
		       "(apps/v1)",
		       "its message");
		ok(api_kind_check(deploy, o2, &err) == 0 && api_kind_of(o2) == deploy,
		   "missing apiVersion and kind are filled in");
		json_decref(o);
		json_decref(o2);
	}
}

static void test_meta(void)
{
	json_t *o = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}}");
	json_t *owner = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
			  "{\"name\":\"rs\",\"uid\":\"u1\"}}");

	is_str(api_meta_name(o), "web", "name");
	is_str(api_meta_namespace(o), "default", "namespace");
	ok(!api_meta_uid(o), "no uid");
	api_meta_set_uid(o, "abc");
	api_meta_set_resource_version_int(o, 42);
	api_meta_set_creation_timestamp(o, 1795625551);
	api_meta_set_generation(o, 3);
	is_str(api_meta_uid(o), "abc", "set uid");
	is_str(api_meta_resource_version(o), "42", "resourceVersion is a string");
	is_int(api_meta_resource_version_int(o), 42, "resourceVersion as an integer");
	is_str(api_meta_creation_timestamp(o), "2026-11-25T16:52:31Z", "RFC 3339 timestamp");
	is_int(api_meta_generation(o), 3, "generation");
	api_meta_set_label(o, "app", "web");
	api_meta_set_annotation(o, "a", "1");
	is_str(api_meta_label(o, "app"), "web", "label");
	is_str(api_meta_annotation(o, "a"), "1", "annotation");
	api_meta_set_label(o, "app", NULL);
	ok(api_meta_labels(o) && !api_meta_label(o, "app"), "label removed, map kept");
	api_meta_add_finalizer(o, "kubernetes");
	api_meta_add_finalizer(o, "kubernetes");
	is_int(json_array_size(api_get(o, "metadata.finalizers")), 1, "finalizers are a set");
	ok(api_meta_has_finalizer(o, "kubernetes"), "has finalizer");
	ok(api_meta_remove_finalizer(o, "kubernetes") && !api_get(o, "metadata.finalizers"),
	   "finalizer removed");
	api_set(o, "metadata.ownerReferences",
		json_pack("[o]", api_owner_ref_new(owner, true, true)));
	ok(api_meta_is_owned_by(o, "u1"), "owned by uid");
	is_str(api_get_str(api_meta_controller_ref(o), "name"), "rs", "controller reference");
	same_json(api_owner_ref_new(owner, true, false),
		  "{\"apiVersion\":\"apps/"
		  "v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u1\","
		  "\"controller\":true,\"blockOwnerDeletion\":false}",
		  "ownerReference shape");
	api_meta_set_resource_version(o, "x1");
	is_int(api_meta_resource_version_int(o), -1, "a non-numeric resourceVersion");
	api_set_int(o, "spec.replicas", 3);
	is_int(api_get_int(o, "spec.replicas", 0), 3, "api_set creates intermediate objects");
	api_del(o, "spec.replicas");
	is_int(api_get_int(o, "spec.replicas", 7), 7, "api_del");
	ok(api_get_bool(o, "spec.missing", true), "bool default");
	same_json(api_partial_metadata(owner),
		  "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
		  "\"metadata\":{\"name\":\"rs\",\"uid\":\"u1\"}}",
		  "PartialObjectMetadata");
	{
		json_t *a =
			J("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"1\"},\"spec\":{}}");
		json_t *b =
			J("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"2\"},\"spec\":{}}");
		ok(api_semantic_equal(a, b), "resourceVersion does not make a change");
		api_set_int(b, "spec.x", 1);
		ok(!api_semantic_equal(a, b), "a spec field does");
		json_decref(a);
		json_decref(b);
	}
	{
		json_t *d =
			J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u\","
			  "\"resourceVersion\":\"114\",\"creationTimestamp\":\"2026-11-25T17:01:"
			  "06Z\","
			  "\"labels\":{\"a\":\"b\"}},\"spec\":{\"replicas\":3,\"selector\":"
			  "{\"matchLabels\":{\"app\":\"test-app\"}}},\"status\":{\"replicas\":2}}");
		same_json(
			api_scale_of(d),
			"{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/"
			"v1\",\"metadata\":{\"name\":"
			"\"web\",\"namespace\":\"default\",\"uid\":\"u\",\"resourceVersion\":"
			"\"114\","
			"\"creationTimestamp\":\"2026-11-25T17:01:06Z\"},\"spec\":{\"replicas\":3},"
			"\"status\":{\"replicas\":2,\"selector\":\"app=test-app\"}}",
			"Scale view of a Deployment (shapes/scale.json)");
		json_decref(d);
	}
	{
		json_t *items = J("[]");
		same_json(api_list_new(api_kind_by_kind(NULL, "Service"), items, "124"),
			  "{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"metadata\":"
			  "{\"resourceVersion\":\"124\"},\"items\":[]}",
			  "List shape");
		json_decref(items);
	}
	{
		json_t *obj = NULL;
		sk_err err = {0};
		ok(api_json_parse("{\"a\":1}", 7, &obj, &err) == 0, "JSON body parses");
		json_decref(obj);
		ok(api_json_parse("{\"a\":", 5, &obj, &err) < 0 && err.code == EINVAL,
		   "malformed JSON refused");
		like(err.msg, "invalid JSON at line 1", "with a position");
		ok(api_json_parse("[1]", 3, &obj, &err) < 0, "a non-object body refused");
		ok(api_json_parse("{}", API_MAX_BODY + 1, &obj, &err) < 0 && err.code == E2BIG,
		   "over 3 MiB refused with E2BIG");
		char deep[300];
		size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
		for (int i = 0; i < 80; i++)
			deep[n++] = '[';
		for (int i = 0; i < 80; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		ok(api_json_parse(deep, n, &obj, &err) < 0, "nesting deeper than 64 refused");
	}
	json_decref(o);
	json_decref(owner);
}

static void test_status(void)
{
	const api_kind *pods = api_kind_by_kind("", "Pod");
	const api_kind *svc = api_kind_by_kind("", "Service");
	const api_kind *deploy = api_kind_by_kind("apps", "Deployment");
	const api_kind *ns = api_kind_by_kind("", "Namespace");
	json_t *causes;

	same_json(
		api_status_not_found(pods, "nope"),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"pods \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"code\":404,"
		"\"details\":{\"name\":\"nope\",\"kind\":\"pods\"}}",
		"404 shape (shapes/status_404.json)");
	same_json(
		api_status_not_found(deploy, "x"),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"deployments.apps \\\"x\\\" not found\",\"reason\":\"NotFound\","
		"\"code\":404,\"details\":{\"name\":\"x\",\"group\":\"apps\",\"kind\":"
		"\"deployments\"}}",
		"404 for a group kind");
	same_json(
		api_status_not_found(NULL, NULL),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"the server could not find the requested resource\",\"reason\":"
		"\"NotFound\",\"code\":404}",
		"404 for an unknown path");
	same_json(
		api_status_already_exists(svc, "test-service"),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"services \\\"test-service\\\" already exists\",\"reason\":"
		"\"AlreadyExists\",\"code\":409,\"details\":{\"name\":\"test-service\",\"kind\":"
		"\"services\"}}",
		"409 AlreadyExists (shapes/status_409_alreadyexists.json)");
	same_json(
		api_status_conflict(pods, "test-pod", NULL),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"Operation cannot be fulfilled on pods \\\"test-pod\\\": the object "
		"has "
		"been modified; please apply your changes to the latest version and try again\","
		"\"reason\":\"Conflict\",\"code\":409,\"details\":{\"name\":\"test-pod\",\"kind\":"
		"\"pods\"}}",
		"409 Conflict (shapes/status_409_conflict.json)");
	causes =
		J("[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"X\\\": a "
		  "lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
		  "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
		  "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\","
		  "\"field\":\"metadata.name\"}]");
	same_json(
		api_status_invalid(ns, "X", causes),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"Namespace \\\"X\\\" is invalid: metadata.name: Invalid value: "
		"\\\"X\\\": "
		"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
		"'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
		"'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\","
		"\"reason\":\"Invalid\",\"code\":422,\"details\":{\"name\":\"X\",\"kind\":"
		"\"Namespace\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid "
		"value: \\\"X\\\": a lowercase RFC 1123 label must consist of lower case "
		"alphanumeric "
		"characters or '-', and must start and end with an alphanumeric character (e.g. "
		"'my-name',  or '123-abc', regex used for validation is "
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')\",\"field\":\"metadata.name\"}]}}",
		"422 Invalid (shapes/status_422_invalid.json)");
	json_decref(causes);
	causes = J("[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\",\"field\":"
		   "\"spec.selector\"},{\"reason\":\"FieldValueRequired\",\"message\":\"Required "
		   "value\",\"field\":\"spec.selector\"},{\"reason\":\"FieldValueInvalid\","
		   "\"message\":"
		   "\"Invalid value: 0: must be greater than 0\",\"field\":\"spec.x\"}]");
	{
		json_t *st = api_status_invalid(deploy, "web", causes);
		is_str(api_get_str(st, "message"),
		       "Deployment.apps \"web\" is invalid: [spec.selector: Required value, "
		       "spec.x: "
		       "Invalid value: 0: must be greater than 0]",
		       "several causes: bracketed, duplicates dropped, Kind.group");
		is_str(api_get_str(st, "details.group"), "apps", "details.group");
		is_int(json_array_size(api_get(st, "details.causes")), 3,
		       "every cause kept in details");
		json_decref(st);
	}
	json_decref(causes);
	same_json(
		api_status_success(svc, "test-service", "4f95"),
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
		"\"details\":{\"name\":\"test-service\",\"group\":\"\",\"kind\":\"services\","
		"\"uid\":"
		"\"4f95\"}}",
		"200 Success (shapes/status_200_delete_success.json)");
	{
		json_t *st = api_status_expired(5, 100);
		is_str(api_get_str(st, "message"), "too old resource version: 5 (100)",
		       "410 message");
		is_str(api_get_str(st, "reason"), "Expired", "410 reason");
		is_int(api_status_code(st), 410, "410 code");
		json_decref(st);
		st = api_status_unauthorized();
		is_int(api_status_code(st), 401, "401");
		is_str(api_get_str(st, "message"), "Unauthorized", "401 message");
		json_decref(st);
		st = api_status_bad_request("bad %s", "thing");
		is_str(api_get_str(st, "message"), "bad thing", "400 message");
		is_str(api_get_str(st, "reason"), "BadRequest", "400 reason");
		json_decref(st);
		st = api_status_too_large(API_MAX_BODY);
		is_str(api_get_str(st, "message"), "Request entity too large: limit is 3145728",
		       "413 message");
		json_decref(st);
		st = api_status_method_not_allowed(pods, "PATCH");
		is_str(api_get_str(st, "message"),
		       "PATCH is not supported on resources of kind \"pods\"", "405 message");
		json_decref(st);
		st = api_status_unsupported_media_type(NULL);
		like(api_get_str(st, "message"),
		     "the body of the request was in an unknown format - accepted media types "
		     "include: "
		     "application/json-patch+json",
		     "415 message");
		is_int(api_status_code(st), 415, "415 code");
		json_decref(st);
		st = api_status_forbidden(pods, "p", "not allowed");
		is_str(api_get_str(st, "message"), "pods \"p\" is forbidden: not allowed", "403");
		json_decref(st);
		st = api_status_internal("disk on fire");
		is_str(api_get_str(st, "message"), "Internal error occurred: disk on fire", "500");
		is_str(api_get_str(json_array_get(api_get(st, "details.causes"), 0), "message"),
		       "disk on fire", "500 cause");
		json_decref(st);
		st = api_status_gone("continue token expired");
		is_str(api_get_str(st, "reason"), "Gone", "410 Gone");
		json_decref(st);
	}
}

static void test_names(void)
{
	ok(!api_check_dns1123_label("my-name"), "label ok");
	like(api_check_dns1123_label("X"), "a lowercase RFC 1123 label must consist", "label X");
	is_str(api_check_dns1123_label("a.b"), "must not contain dots", "label with dots");
	like(api_check_dns1123_label(
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	     "must be no more than 63 characters", "label too long");
	ok(!api_check_dns1123_subdomain("a.b-c.d"), "subdomain ok");
	like(api_check_dns1123_subdomain("a..b"), "a lowercase RFC 1123 subdomain",
	     "subdomain a..b");
	like(api_check_dns1035_label("1abc"), "a DNS-1035 label must consist", "1035 digit start");
	ok(!api_check_dns1035_label("test-service"), "1035 ok");
	ok(!api_check_qualified_name("example.com/My_Name.1"), "qualified name ok");
	is_str(api_check_qualified_name("/a"), "prefix part must be non-empty", "empty prefix");
	like(api_check_qualified_name("a/b/c"), "a qualified name must consist", "two slashes");
	like(api_check_qualified_name("-a"), "name part must consist of alphanumeric characters",
	     "bad name part");
	ok(!api_check_label_value(""), "empty label value ok");
	like(api_check_label_value("a b"), "a valid label must be an empty string", "label value");
}

int main(void)
{
	test_registry();
	test_meta();
	test_status();
	test_names();
	return done_testing();
}
