/* Unit tests for api/defaults.c and api/validate*.c: the apiserver's
 * defaults, create/update strategies, and validation causes with their
 * exact field paths and messages. */
#include <stdlib.h>

#include "../../api/api.h"
#include "tap.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j) {
		printf("# bad test JSON: %s: %s\n", s, e.text);
		abort();
	}
	return j;
}

static const api_kind *K(const char *kind)
{
	return api_kind_by_kind(NULL, kind);
}

/* Default, prepare and validate a new object; return "field: message"
 * lines joined by " | ", or "" when valid. */
static char *causes_of(const char *kind, const char *obj_json, const char *old_json)
{
	const api_kind *k = K(kind);
	json_t *obj = J(obj_json), *old = old_json ? J(old_json) : NULL, *causes, *c;
	sk_buf b = {0};
	size_t i;

	api_default(k, obj);
	if (old) {
		api_default(k, old);
		api_prepare_update(k, obj, old);
	} else {
		api_prepare_create(k, obj);
	}
	causes = api_validate(k, obj, old);
	json_array_foreach (causes, i, c) {
		sk_buf_printf(&b, "%s%s: %s", i ? " | " : "", api_get_str(c, "field"),
			      api_get_str(c, "message"));
	}
	json_decref(causes);
	json_decref(obj);
	json_decref(old);
	return sk_buf_steal(&b);
}

static void valid(const char *kind, const char *obj, const char *name)
{
	_cleanup_free_ char *got = causes_of(kind, obj, NULL);

	is_str(got, "", "valid: %s", name);
}

static void invalid(const char *kind, const char *obj, const char *old, const char *want,
		    const char *name)
{
	_cleanup_free_ char *got = causes_of(kind, obj, old);

	like(got, want, "invalid: %s", name);
}

#define POD(spec) "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":" spec "}"
#define C1 "{\"name\":\"c\",\"image\":\"busybox\"}"

static void test_defaults(void)
{
	json_t *pod = J(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"ports\":[{"
			    "\"containerPort\":80}],"
			    "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
			    "{\"name\":\"d\",\"image\":\"reg:5000/x/"
			    "y:1.2\"}],\"volumes\":[{\"name\":\"v\"}]}"));
	const api_kind *pk = K("Pod");
	json_t *c0, *c1;

	api_default(pk, pod);
	api_prepare_create(pk, pod);
	c0 = json_array_get(api_get(pod, "spec.containers"), 0);
	c1 = json_array_get(api_get(pod, "spec.containers"), 1);
	is_str(api_get_str(pod, "spec.restartPolicy"), "Always", "pod: restartPolicy Always");
	is_int(api_get_int(pod, "spec.terminationGracePeriodSeconds", 0), 30, "pod: grace 30");
	is_str(api_get_str(pod, "spec.dnsPolicy"), "ClusterFirst", "pod: dnsPolicy");
	is_str(api_get_str(pod, "spec.schedulerName"), "default-scheduler", "pod: schedulerName");
	ok(json_is_object(api_get(pod, "spec.securityContext")), "pod: securityContext {}");
	ok(json_is_true(api_get(pod, "spec.enableServiceLinks")), "pod: enableServiceLinks");
	is_int(api_get_int(pod, "spec.priority", -1), 0, "pod: priority 0");
	is_str(api_get_str(pod, "spec.preemptionPolicy"), "PreemptLowerPriority",
	       "pod: preemptionPolicy");
	is_int(json_array_size(api_get(pod, "spec.tolerations")), 2,
	       "pod: default NoExecute tolerations");
	is_str(api_get_str(c0, "imagePullPolicy"), "Always",
	       "container: untagged image pulls Always");
	is_str(api_get_str(c1, "imagePullPolicy"), "IfNotPresent",
	       "container: tagged image (registry port)");
	is_str(api_get_str(c0, "terminationMessagePath"), "/dev/termination-log",
	       "terminationMessagePath");
	is_str(api_get_str(c0, "terminationMessagePolicy"), "File", "terminationMessagePolicy");
	is_str(api_get_str(json_array_get(api_get(c0, "ports"), 0), "protocol"), "TCP",
	       "ports[].protocol TCP");
	is_str(api_get_str(c0, "resources.requests.cpu"), "1", "requests default to limits");
	is_str(api_get_str(c0, "resources.limits.memory"), "1Gi", "quantities stay canonical");
	ok(json_is_object(api_get(c1, "resources")), "resources {} on every container");
	ok(json_is_object(api_get(json_array_get(api_get(pod, "spec.volumes"), 0), "emptyDir")),
	   "a volume without source is an emptyDir");
	is_str(api_get_str(pod, "status.phase"), "Pending", "pod status Pending");
	is_str(api_get_str(pod, "status.qosClass"), "Burstable", "pod QoS Burstable");
	json_decref(pod);

	json_t *svc =
		J("{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"test-"
		  "service\",\"namespace\":\"default\"},"
		  "\"spec\":{\"selector\":{\"app\":\"test-app\"},\"ports\":[{\"protocol\":\"TCP\","
		  "\"port\":80,\"targetPort\":8888,\"name\":\"http\"},{\"port\":53,\"name\":"
		  "\"dns\"}]}}");
	api_default(K("Service"), svc);
	api_prepare_create(K("Service"), svc);
	api_service_set_cluster_ip(svc, "10.96.14.68");
	is_str(api_get_str(svc, "spec.type"), "ClusterIP", "service: type ClusterIP");
	is_str(api_get_str(svc, "spec.sessionAffinity"), "None", "service: sessionAffinity None");
	is_str(api_get_str(svc, "spec.internalTrafficPolicy"), "Cluster",
	       "service: internalTrafficPolicy");
	is_int(api_get_int(json_array_get(api_get(svc, "spec.ports"), 1), "targetPort", 0), 53,
	       "service: targetPort defaults to port");
	is_str(api_get_str(json_array_get(api_get(svc, "spec.ports"), 1), "protocol"), "TCP",
	       "service: protocol TCP");
	is_str(api_get_str(svc, "spec.ipFamilyPolicy"), "SingleStack", "service: ipFamilyPolicy");
	is_str(json_string_value(json_array_get(api_get(svc, "spec.ipFamilies"), 0)), "IPv4",
	       "service: ipFamilies");
	is_str(json_string_value(json_array_get(api_get(svc, "spec.clusterIPs"), 0)), "10.96.14.68",
	       "service: clusterIPs");
	ok(json_is_object(api_get(svc, "status.loadBalancer")), "service: status.loadBalancer {}");
	{
		json_t *causes = api_validate(K("Service"), svc, NULL);
		is_int(json_array_size(causes), 0, "the seed's Service is valid");
		json_decref(causes);
	}
	json_decref(svc);

	json_t *d = J(
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"selector\":"
		"{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":"
		"{\"app\":\"web\"}},\"spec\":{\"containers\":[" C1 "]}}}}");
	api_default(K("Deployment"), d);
	api_prepare_create(K("Deployment"), d);
	is_int(api_get_int(d, "spec.replicas", 0), 1, "deployment: replicas 1");
	is_str(api_get_str(d, "spec.strategy.type"), "RollingUpdate", "deployment: RollingUpdate");
	is_str(api_get_str(d, "spec.strategy.rollingUpdate.maxSurge"), "25%",
	       "deployment: maxSurge 25%%");
	is_str(api_get_str(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%",
	       "deployment: maxUnavailable 25%%");
	is_int(api_get_int(d, "spec.revisionHistoryLimit", 0), 10,
	       "deployment: revisionHistoryLimit 10");
	is_int(api_get_int(d, "spec.progressDeadlineSeconds", 0), 600,
	       "deployment: progressDeadline 600");
	is_str(api_get_str(d, "spec.template.spec.restartPolicy"), "Always",
	       "template: restartPolicy");
	ok(!api_get(d, "spec.template.spec.enableServiceLinks"), "template: no Pod-only defaults");
	ok(json_is_null(api_get(d, "spec.template.metadata.creationTimestamp")),
	   "template: creationTimestamp null as the typed encoding prints it");
	is_int(api_meta_generation(d), 1, "deployment: generation 1");

	/* Updates: status kept, generation bumped on spec changes only. */
	{
		json_t *upd = json_deep_copy(d);
		api_set_int(d, "status.replicas", 1);
		api_meta_set_resource_version(upd, "5");
		api_set(upd, "status", json_object());
		api_prepare_update(K("Deployment"), upd, d);
		is_int(api_get_int(upd, "status.replicas", 0), 1, "update keeps the stored status");
		is_int(api_meta_generation(upd), 1, "no spec change, same generation");
		api_set_int(upd, "spec.replicas", 3);
		api_prepare_update(K("Deployment"), upd, d);
		is_int(api_meta_generation(upd), 2, "spec change bumps generation");
		json_t *st = json_deep_copy(d);
		api_set_int(st, "spec.replicas", 9);
		api_set_int(st, "status.replicas", 4);
		api_prepare_status_update(K("Deployment"), st, d);
		is_int(api_get_int(st, "spec.replicas", 0), 1,
		       "status update keeps the stored spec");
		is_int(api_get_int(st, "status.replicas", 0), 4, "status update takes the status");
		json_decref(upd);
		json_decref(st);
	}
	json_decref(d);

	json_t *ns = J("{\"metadata\":{\"name\":\"team-a\"}}");
	api_default(K("Namespace"), ns);
	api_prepare_create(K("Namespace"), ns);
	is_str(api_meta_label(ns, "kubernetes.io/metadata.name"), "team-a",
	       "namespace: name label");
	is_str(json_string_value(json_array_get(api_get(ns, "spec.finalizers"), 0)), "kubernetes",
	       "namespace: finalizer kubernetes");
	is_str(api_get_str(ns, "status.phase"), "Active", "namespace: Active");
	json_decref(ns);

	json_t *sec = J("{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"stringData\":{"
			"\"user\":\"admin\"}}");
	api_default(K("Secret"), sec);
	is_str(api_get_str(sec, "type"), "Opaque", "secret: type Opaque");
	is_str(api_get_str(sec, "data.user"), "YWRtaW4=", "secret: stringData folded into data");
	ok(!api_get(sec, "stringData"), "secret: stringData dropped");
	json_decref(sec);

	/* Quantities are stored canonical, as the typed encoding prints them. */
	{
		json_t *q = J(POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{"
				  "\"limits\":"
				  "{\"cpu\":0.5,\"memory\":\"1024Mi\",\"x/"
				  "y\":2,\"ephemeral-storage\":\"1e3\"},"
				  "\"requests\":{\"cpu\":\"0.0001\",\"memory\":\"bogus\"}}}]}"));
		api_default(pk, q);
		json_t *r = api_get(json_array_get(api_get(q, "spec.containers"), 0), "resources");
		is_str(api_get_str(r, "limits.cpu"), "500m", "quantity 0.5 -> 500m");
		is_str(api_get_str(r, "limits.memory"), "1Gi", "quantity 1024Mi -> 1Gi");
		is_str(api_get_str(r, "limits.x/y"), "2", "quantity 2 -> \"2\"");
		is_str(api_get_str(r, "limits.ephemeral-storage"), "1e3", "exponent form kept");
		is_str(api_get_str(r, "requests.cpu"), "1m", "rounded up to milli-units");
		is_str(api_get_str(r, "requests.memory"), "bogus",
		       "unparsable left for validation");
		json_decref(q);
	}

	/* Defaulting is idempotent. */
	{
		json_t *a = J(POD("{\"containers\":[" C1 "]}"));
		api_default(pk, a);
		json_t *b = json_deep_copy(a);
		api_default(pk, b);
		ok(json_equal(a, b), "defaulting twice changes nothing");
		json_decref(a);
		json_decref(b);
	}
}

static void test_validation(void)
{
	valid("Pod", POD("{\"containers\":[" C1 "]}"), "a minimal pod");
	invalid("Namespace", "{\"metadata\":{\"name\":\"X\"}}", NULL,
		"metadata.name: Invalid value: \"X\": a lowercase RFC 1123 label must consist of "
		"lower "
		"case alphanumeric characters or '-', and must start and end with an alphanumeric "
		"character (e.g. 'my-name',  or '123-abc', regex used for validation is "
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
		"namespace X (shapes/status_422_invalid.json)");
	invalid("Pod", POD("{\"containers\":[{\"name\":\"c\"}]}"), NULL,
		"spec.containers[0].image: Required value", "missing image");
	invalid("Pod", POD("{\"containers\":[]}"), NULL, "spec.containers: Required value",
		"no containers");
	invalid("Pod",
		"{\"metadata\":{\"namespace\":\"default\"},\"spec\":{\"containers\":[" C1 "]}}",
		NULL, "metadata.name: Required value: name or generateName is required", "no name");
	invalid("Pod", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[" C1 "]}}", NULL,
		"metadata.namespace: Required value", "no namespace");
	invalid("Namespace", "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}", NULL,
		"metadata.namespace: Forbidden: not allowed on this type",
		"namespace on a cluster kind");
	invalid("Pod", POD("{\"containers\":[" C1 "," C1 "]}"), NULL,
		"spec.containers[1].name: Duplicate value: \"c\"", "duplicate container name");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{"
		    "\"containerPort\":70000}]}]}"),
		NULL,
		"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between "
		"1 and 65535, inclusive",
		"port out of range");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{"
		    "\"containerPort\":80,\"protocol\":\"tcp\"}]}]}"),
		NULL,
		"spec.containers[0].ports[0].protocol: Unsupported value: \"tcp\": supported "
		"values: \"SCTP\", \"TCP\", \"UDP\"",
		"protocol case");
	invalid("Pod", POD("{\"restartPolicy\":\"Sometimes\",\"containers\":[" C1 "]}"), NULL,
		"spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
		"\"Always\", \"OnFailure\", \"Never\"",
		"restartPolicy");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"limits\":{"
		    "\"cpu\":\"abc\"}}}]}"),
		NULL,
		"spec.containers[0].resources.limits[cpu]: Invalid value: \"abc\": quantities must "
		"match the regular expression",
		"bad quantity");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"limits\":{"
		    "\"cpu\":\"1\"},\"requests\":{\"cpu\":\"2\"}}}]}"),
		NULL,
		"spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or "
		"equal to cpu limit of 1",
		"request above limit");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumeMounts\":[{\"name\":"
		    "\"nope\",\"mountPath\":\"/d\"}]}]}"),
		NULL, "spec.containers[0].volumeMounts[0].name: Not found: \"nope\"",
		"mount of a missing volume");
	invalid("Pod",
		POD("{\"containers\":[" C1 "],\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":"
		    "\"/x\"},\"emptyDir\":{}}]}"),
		NULL,
		"spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type",
		"two volume types");
	invalid("Pod",
		POD("{\"containers\":[" C1 "],\"volumes\":[{\"name\":\"v\",\"hostPath\":{}}]}"),
		NULL, "spec.volumes[0].hostPath.path: Required value", "hostPath without path");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"A=B\"}]}"
		    "]}"),
		NULL,
		"spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment "
		"variable name",
		"env name with =");
	invalid("Pod",
		POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"livenessProbe\":{"
		    "\"periodSeconds\":5}}]}"),
		NULL,
		"spec.containers[0].livenessProbe: Required value: must specify a handler type",
		"probe without handler");
	invalid("Pod",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":{\"a "
		"b\":\"c\"}},\"spec\":{\"containers\":[" C1 "]}}",
		NULL,
		"metadata.labels: Invalid value: \"a b\": name part must consist of alphanumeric "
		"characters",
		"bad label key");
	invalid("Pod",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":{\"a\":\"-c\"}}"
		",\"spec\":{\"containers\":[" C1 "]}}",
		NULL,
		"metadata.labels: Invalid value: \"-c\": a valid label must be an empty string",
		"bad label value");
	invalid("Pod",
		"{\"metadata\":{\"generateName\":\"Web-\",\"namespace\":\"default\"},\"spec\":{"
		"\"containers\":[" C1 "]}}",
		NULL, "metadata.generateName: Invalid value: \"Web-\"", "bad generateName");
	valid("Pod",
	      "{\"metadata\":{\"name\":\"web-abcde\",\"generateName\":\"web-\",\"namespace\":"
	      "\"default\"},"
	      "\"spec\":{\"containers\":[" C1 "]}}",
	      "generateName with a trailing dash");
	invalid("Pod",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"finalizers\":[\"bogus\"]"
		"},\"spec\":{\"containers\":[" C1 "]}}",
		NULL,
		"metadata.finalizers[0]: Invalid value: \"bogus\": name is neither a standard "
		"finalizer name nor is it fully qualified",
		"finalizer name");
	invalid("Pod", POD("{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":\"80\"}]}"),
		NULL, "spec.containers[0].ports: Invalid value: \"80\": must be of type array",
		"wrong JSON type");

	valid("Service",
	      "{\"metadata\":{\"name\":\"test-service\",\"namespace\":\"default\"},\"spec\":{"
	      "\"selector\":"
	      "{\"app\":\"test-app\"},\"ports\":[{\"protocol\":\"TCP\",\"port\":80,\"targetPort\":"
	      "8888}]}}",
	      "the seed's Service");
	invalid("Service",
		"{\"metadata\":{\"name\":\"1svc\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{"
		"\"port\":80}]}}",
		NULL, "metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist",
		"service names are DNS-1035");
	invalid("Service", "{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{}}",
		NULL, "spec.ports: Required value", "service without ports");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{"
		"\"port\":80},{\"port\":81}]}}",
		NULL, "spec.ports[0].name: Required value | spec.ports[1].name: Required value",
		"several ports need names");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{"
		"\"port\":80,\"name\":\"a\"},{\"port\":80,\"name\":\"b\"}]}}",
		NULL,
		"spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\"",
		"duplicate service port");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"type\":"
		"\"Magic\",\"ports\":[{\"port\":80}]}}",
		NULL,
		"spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", "
		"\"ExternalName\", \"LoadBalancer\", \"NodePort\"",
		"service type");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{"
		"\"port\":80,\"nodePort\":30001}]}}",
		NULL,
		"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
		"nodePort on ClusterIP");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
		"\"abc\",\"ports\":[{\"port\":80}]}}",
		NULL, "spec.clusterIPs[0]: Invalid value: \"abc\": must be a valid IP address",
		"bad clusterIP");
	invalid("Service",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\",\"resourceVersion\":\"2\"}"
		",\"spec\":{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"port\":80}]}}",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\",\"resourceVersion\":\"1\"}"
		",\"spec\":{\"clusterIP\":\"10.96.0.8\",\"ports\":[{\"port\":80}]}}",
		"spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.9\"}: may not change once "
		"set",
		"clusterIP is immutable");
	valid("Service",
	      "{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
	      "\"None\",\"selector\":{\"a\":\"b\"}}}",
	      "headless service without ports");

#define DEPLOY(sel, labels, extra)                                                              \
	"{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"resourceVersion\":\"3\"}," \
	"\"spec\":{"                                                                            \
	"\"selector\":" sel ",\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{"    \
	"\"containers\":[" C1 "]" extra "}}}}"
	valid("Deployment", DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}", ""),
	      "a deployment");
	invalid("Deployment",
		DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"check-out\"}", ""), NULL,
		"spec.template.metadata.labels: Invalid value: "
		"map[string]string{\"app\":\"check-out\"}: "
		"`selector` does not match template `labels`",
		"selector does not match the template");
	invalid("Deployment", DEPLOY("{}", "{\"app\":\"web\"}", ""), NULL,
		"spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{},"
		"MatchExpressions:[]LabelSelectorRequirement{},}: empty selector is invalid for "
		"deployment",
		"empty selector");
	invalid("Deployment",
		DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}",
		       ",\"restartPolicy\":\"Never\""),
		NULL,
		"spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: "
		"\"Always\"",
		"template restartPolicy must be Always");
	invalid("Deployment",
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":"
		"-1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
		"\"strategy\":{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":0}},"
		"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
		"\"containers\":[" C1 "]}}}}",
		NULL,
		"spec.replicas: Invalid value: -1: must be greater than or equal to 0 | "
		"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
		"`maxSurge` is 0",
		"negative replicas and a 0/0 rolling update");
	invalid("Deployment",
		DEPLOY("{\"matchLabels\":{\"app\":\"web2\"}}", "{\"app\":\"web2\"}", ""),
		DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}", ""),
		"spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: "
		"web2,},"
		"MatchExpressions:[]LabelSelectorRequirement{},}: field is immutable",
		"selector is immutable");
	invalid("Deployment",
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":"
		"\"3\"}}",
		NULL, "spec.replicas: Invalid value: \"3\": must be of type integer",
		"replicas as a string");

	/* Pod updates. */
	{
		const char *old = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
				  "\"resourceVersion\":\"1\"},"
				  "\"spec\":{\"containers\":[" C1 "]}}";
		const char *img =
			"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
			"\"resourceVersion\":\"1\"},"
			"\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\","
			"\"imagePullPolicy\":\"Always\"}]}}";
		const char *node = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\","
				   "\"resourceVersion\":\"1\"},"
				   "\"spec\":{\"nodeName\":\"n\",\"containers\":[" C1 "]}}";
		_cleanup_free_ char *got = causes_of("Pod", img, old);
		is_str(got, "", "pod update: image may change");
		invalid("Pod", node, old,
			"spec: Forbidden: pod updates may not change fields other than "
			"`spec.containers[*].image`",
			"pod update: nodeName may not change");
		invalid("Pod",
			"{\"metadata\":{\"name\":\"q\",\"namespace\":\"default\","
			"\"resourceVersion\":\"1\"},"
			"\"spec\":{\"containers\":[" C1 "]}}",
			old, "metadata.name: Invalid value: \"q\": field is immutable",
			"name is immutable");
		invalid("Pod",
			"{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{"
			"\"containers\":[" C1 "]}}",
			old,
			"metadata.resourceVersion: Invalid value: \"\": must be specified for an "
			"update",
			"update without resourceVersion");
	}

	invalid("ConfigMap",
		"{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"data\":{\"a b\":\"x\"}}",
		NULL,
		"data[a b]: Invalid value: \"a b\": a valid config key must consist of "
		"alphanumeric characters",
		"configmap key");
	valid("ConfigMap",
	      "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"data\":{\"index.html\":\"hi\"}"
	      "}",
	      "configmap");
	invalid("ConfigMap",
		"{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"resourceVersion\":\"2\"},"
		"\"immutable\":true,\"data\":{\"a\":\"2\"}}",
		"{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"resourceVersion\":\"1\"},"
		"\"immutable\":true,\"data\":{\"a\":\"1\"}}",
		"data: Forbidden: field is immutable when `immutable` is set",
		"immutable configmap");
	invalid("Secret",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"type\":\"kubernetes.io/"
		"tls\",\"data\":{}}",
		NULL, "data[tls.crt]: Required value | data[tls.key]: Required value",
		"tls secret keys");
	invalid("Secret",
		"{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"data\":{\"a\":\"not "
		"base64!\"}}",
		NULL, "data[a]: Invalid value", "secret data must be base64");
	valid("Secret",
	      "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"data\":{\"a\":\"YWRtaW4=\"}}",
	      "secret");
	valid("Node",
	      "{\"metadata\":{\"name\":\"node-1\"},\"spec\":{\"podCIDRs\":[\"10.244.0.0/24\"]},"
	      "\"status\":{\"capacity\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"110\"}}}",
	      "node");
	invalid("Node",
		"{\"metadata\":{\"name\":\"n\"},\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":"
		"\"Sometimes\"}]}}",
		NULL, "spec.taints[0].effect: Unsupported value: \"Sometimes\"", "taint effect");
	invalid("PersistentVolumeClaim",
		"{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"accessModes\":["
		"\"ReadWriteOnce\"]}}",
		NULL, "spec.resources[storage]: Required value", "pvc without storage request");
	valid("PersistentVolumeClaim",
	      "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"accessModes\":["
	      "\"ReadWriteOnce\"],"
	      "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}",
	      "pvc");
	valid("PersistentVolume",
	      "{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
	      "\"accessModes\":[\"ReadWriteOnce\"],\"hostPath\":{\"path\":\"/data/pv1\"}}}",
	      "pv");
	invalid("PersistentVolume",
		"{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
		"\"accessModes\":[\"ReadWriteOnce\"]}}",
		NULL, "spec: Required value: must specify a volume type", "pv without source");
	valid("Endpoints",
	      "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"subsets\":[{\"addresses\":[{"
	      "\"ip\":\"10.244.0.5\"}],"
	      "\"ports\":[{\"port\":8888}]}]}",
	      "endpoints");
	invalid("Event",
		"{\"metadata\":{\"name\":\"e\",\"namespace\":\"a\"},\"involvedObject\":{"
		"\"namespace\":\"b\"}}",
		NULL,
		"involvedObject.namespace: Invalid value: \"b\": does not match event.namespace",
		"event namespace");
	invalid("Lease",
		"{\"metadata\":{\"name\":\"l\",\"namespace\":\"d\"},\"spec\":{"
		"\"leaseDurationSeconds\":0}}",
		NULL, "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
		"lease duration");

	{
		json_t *b = J("{\"target\":{\"kind\":\"Pod\",\"name\":\"\"}}"),
		       *c = api_validate_binding(b);
		is_int(json_array_size(c), 2, "binding: wrong kind and no name");
		json_decref(b);
		json_decref(c);
		json_t *s = J("{\"spec\":{\"replicas\":-2}}");
		c = api_validate_scale(s);
		is_str(api_get_str(json_array_get(c, 0), "message"),
		       "Invalid value: -2: must be greater than or equal to 0",
		       "scale: negative replicas");
		json_decref(s);
		json_decref(c);
	}
}

int main(void)
{
	test_defaults();
	test_validation();
	return done_testing();
}
