/* The protobuf decoder on what kubectl 1.33 really sent (the fuzz seeds
 * in tests/fuzz/corpus/protobuf/), and on broken input. */
#include "../../server/srv_internal.h"
#include "tap.h"

#include <errno.h>

static json_t *decode_file(const char *name, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("tests/fuzz/corpus/protobuf/%s", name);
	_cleanup_free_ char *data = NULL;
	json_t *obj = NULL;
	size_t len;

	if (sk_read_file(path, 0, &data, &len, err) < 0)
		return NULL;
	if (srv_protobuf_decode((const unsigned char *)data, len, &obj, err) < 0)
		return NULL;
	return obj;
}

int main(void)
{
	sk_err err = {0};
	json_t *o;

	o = decode_file("namespace.pb", &err);
	ok(o != NULL, "create namespace: decodes (%s)", err.msg);
	is_str(api_get_str(o, "kind"), "Namespace", "... kind");
	is_str(api_get_str(o, "apiVersion"), "v1", "... apiVersion");
	is_str(api_get_str(o, "metadata.name"), "seedns", "... metadata.name");
	ok(!api_get(o, "metadata.creationTimestamp"), "... a zero creationTimestamp is left out");
	json_decref(o);

	o = decode_file("configmap.pb", &err);
	ok(o != NULL, "create configmap: decodes");
	is_str(api_get_str(o, "data.a"), "b", "... data.a from --from-literal");
	ok(api_get_str(o, "data.hostname") != NULL, "... data.hostname from --from-file");
	json_decref(o);

	o = decode_file("secret.pb", &err);
	ok(o != NULL, "create secret generic: decodes");
	is_str(api_get_str(o, "data.p"), "cQ==", "... bytes become base64 (q)");
	json_decref(o);

	o = decode_file("deployment.pb", &err);
	ok(o != NULL, "create deployment: decodes");
	is_str(api_get_str(o, "apiVersion"), "apps/v1", "... apps/v1");
	is_int(api_get_int(o, "spec.replicas", -1), 2, "... replicas");
	is_str(api_get_str(o, "spec.selector.matchLabels.app"), "seedd", "... selector");
	json_t *c = json_array_get(api_get(o, "spec.template.spec.containers"), 0);
	is_str(api_get_str(c, "image"), "nginx:1.25", "... container image");
	is_int(api_get_int(json_array_get(json_object_get(c, "ports"), 0), "containerPort", 0), 80,
	       "... container port");
	ok(json_is_object(api_get(c, "resources")), "... resources {} kept");
	json_decref(o);

	o = decode_file("service-nodeport.pb", &err);
	ok(o != NULL, "create service nodeport: decodes");
	is_str(api_get_str(o, "spec.type"), "NodePort", "... type");
	json_t *p = json_array_get(api_get(o, "spec.ports"), 0);
	is_int(api_get_int(p, "port", 0), 80, "... port");
	is_int(api_get_int(p, "targetPort", 0), 8080, "... an int targetPort");
	json_decref(o);

	o = decode_file("service-clusterip.pb", &err);
	ok(o != NULL, "create service clusterip: decodes");
	p = json_array_get(api_get(o, "spec.ports"), 0);
	is_str(api_get_str(p, "targetPort"), "https", "... a named targetPort stays a string");
	json_decref(o);

	static const unsigned char no_magic[] = "{\"kind\":\"Pod\"}";
	ok(srv_protobuf_decode(no_magic, sizeof(no_magic) - 1, &o, &err) < 0 && err.code == EINVAL,
	   "no k8s magic: EINVAL");
	static const unsigned char pod[] = "k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x00";
	ok(srv_protobuf_decode(pod, sizeof(pod) - 1, &o, &err) < 0 && err.code == ENOTSUP,
	   "a kind without a table (Pod): ENOTSUP (the server answers 415)");
	static const unsigned char trunc[] = "k8s\0\x0a\x7f\x0a\x02v1";
	ok(srv_protobuf_decode(trunc, sizeof(trunc) - 1, &o, &err) < 0 && err.code == EINVAL,
	   "a truncated message: EINVAL");
	return done_testing();
}
