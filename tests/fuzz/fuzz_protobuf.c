/* libFuzzer entry: a Kubernetes protobuf request body (the server's
 * decoder for kubectl 1.32+'s generator commands), then the result as the
 * registry would take it (kind check, defaults, validation). The seeds in
 * corpus/protobuf/ are what kubectl 1.33 sent for create namespace,
 * configmap, secret generic, deployment and service. */
#include "../../server/protobuf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = NULL;
	sk_err err = {0};

	if (srv_protobuf_decode(data, size, &obj, &err) < 0)
		return 0;
	const api_kind *k = api_kind_of(obj);
	if (k && api_kind_check(k, obj, &err) == 0) {
		api_default(k, obj);
		json_decref(api_validate(k, obj, NULL));
	}
	json_decref(obj);
	return 0;
}
