/* Request bodies: JSON (also when the Content-Type is missing, as kubectl
 * sends for some writes), YAML, and Kubernetes protobuf for the kinds
 * kubectl 1.32+'s generators post (create namespace, configmap, secret,
 * deployment, service). */
#include "srv_internal.h"

#include <errno.h>

#define ACCEPTED "application/json, application/yaml, application/vnd.kubernetes.protobuf"

static bool ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int decode_yaml(srv_req *r, json_t **obj, srv_result *res)
{
	json_t *docs = NULL;
	sk_err err = {0};

	if (api_yaml_load(r->body.data, r->body.len, "yaml", &docs, &err) < 0)
		return srv_fail(
			res, api_status_bad_request("error converting YAML to JSON: %s", err.msg));
	if (json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
		json_decref(docs);
		return srv_fail(
			res, api_status_bad_request("the body must hold exactly one YAML object"));
	}
	*obj = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return 0;
}

int srv_decode_body(srv_req *r, json_t **obj, srv_result *res)
{
	const char *ct = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	sk_err err = {0};

	*obj = NULL;
	if (!r->body.len)
		return srv_fail(res, api_status_bad_request("the request body is empty"));
	if (!ct || !*ct || ctype_is(ct, "application/json") || ctype_is(ct, "*/*")) {
		if (api_json_parse(r->body.data, r->body.len, obj, &err) < 0) {
			if (err.code == E2BIG)
				return srv_fail(res, api_status_too_large(API_MAX_BODY));
			return srv_fail(res,
					api_status_bad_request(
						"couldn't get version/kind; json parse error: %s",
						err.msg));
		}
		return 0;
	}
	if (ctype_is(ct, "application/yaml") || ctype_is(ct, "application/x-yaml") ||
	    ctype_is(ct, "text/yaml"))
		return decode_yaml(r, obj, res);
	if (ctype_is(ct, "application/vnd.kubernetes.protobuf")) {
		if (srv_protobuf_decode((const unsigned char *)r->body.data, r->body.len, obj,
					&err) < 0) {
			if (err.code == ENOTSUP)
				return srv_fail(res, api_status_unsupported_media_type(ACCEPTED));
			return srv_fail(res, api_status_bad_request("error decoding protobuf: %s",
								    err.msg));
		}
		return 0;
	}
	return srv_fail(res, api_status_unsupported_media_type(ACCEPTED));
}
