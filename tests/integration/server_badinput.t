#!/bin/bash
# Bad input gets the right 4xx Status naming what is wrong, nothing is
# stored, and the server keeps serving.
. "$(dirname "$0")/server_lib.sh"

srv_start
NS=/api/v1/namespaces/default

revision() {
	req GET /metrics
	sed -n 's/^skiff_store_revision //p' <<<"$BODY"
}
rev0=$(revision)

req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"'
expect_status 400 BadRequest "malformed JSON: 400"
like "$(jqb .message)" "couldn't get version/kind; json parse error" "... says it is a JSON parse error"
req POST $NS/pods '[1,2,3]'
expect_status 400 BadRequest "JSON that is not an object: 400"
req POST $NS/pods 'apiVersion: v1
kind: Pod
metadata:
  name: x
 bad: indentation: here' application/yaml
expect_status 400 BadRequest "malformed YAML: 400"
like "$(jqb .message)" "error converting YAML to JSON: yaml:5:[0-9]+: " "... naming the line"
req POST $NS/pods "$(printf '%0.s[' $(seq 1 200))"
expect_status 400 BadRequest "a JSON nesting bomb: 400"
req POST $NS/pods 'not json' text/plain
expect_status 415 UnsupportedMediaType "an unknown Content-Type: 415"
req POST $NS/pods $'k8s\x00\x0a\x05garbage' application/vnd.kubernetes.protobuf
expect_status 400 BadRequest "malformed protobuf: 400"

req POST $NS/widgets '{"apiVersion":"v1","kind":"Widget","metadata":{"name":"w"}}'
expect_status 404 NotFound "an unknown kind's path: 404"
req POST $NS/pods '{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}'
expect_status 400 BadRequest "a Service posted as a Pod: 400"
like "$(jqb .message)" "the kind in the data \\(Service\\) does not match the expected kind \\(Pod\\)" \
	"... the kind in the data does not match"
req POST /apis/apps/v1/namespaces/default/deployments '{"apiVersion":"apps/v2","kind":"Deployment","metadata":{"name":"x"}}'
expect_status 400 BadRequest "a wrong apiVersion: 400"
like "$(jqb .message)" "the API version in the data \\(apps/v2\\) does not match the expected API version \\(apps/v1\\)" \
	"... the API version in the data does not match"
req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"other"},"spec":{"containers":[{"name":"c","image":"i"}]}}'
expect_status 400 BadRequest "a body namespace that differs from the URL's: 400"

# ---- size limit (3 MiB, as Kubernetes)
big=$TEST_TMP/big.json
{
	printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"'
	head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' 'x'
	printf '"}}'
} >"$big"
req POST $NS/configmaps "@$big"
expect_status 413 RequestEntityTooLarge "a body over 3 MiB: 413"
code=$(curl -sS --cacert "$SRV_CA" -H "Authorization: Bearer $SRV_TOKEN" -H "Content-Type: application/json" \
	-H "Transfer-Encoding: chunked" --data-binary "@$big" -o /dev/null -w '%{http_code}' "$SRV_URL$NS/configmaps")
is "$code" 413 "... also when sent chunked, without a length"
{
	printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"almost"},"data":{"a":"'
	head -c $((3 * 1024 * 1024 - 200)) /dev/zero | tr '\0' 'x'
	printf '"}}'
} >"$big"
req POST $NS/configmaps "@$big"
expect_status 422 Invalid "just under 3 MiB: accepted by HTTP, refused by validation (1 MiB ConfigMap limit)"

# ---- validation: 422 naming the field
req POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"X"}}'
expect_status 422 Invalid "an uppercase namespace name: 422"
like "$(jqb .message)" '^Namespace "X" is invalid: metadata.name: Invalid value: "X": a lowercase RFC 1123 label' \
	"... with the apiserver's message"
is "$(jqb '.details.causes[0].field + " " + .details.causes[0].reason')" "metadata.name FieldValueInvalid" \
	"... and a cause naming metadata.name"
req POST $NS/pods "$(pod_json "under_score")"
expect_status 422 Invalid "a pod name with an underscore: 422"
req POST $NS/pods "$(pod_json "$(printf 'a%.0s' $(seq 1 254))")"
expect_status 422 Invalid "a pod name of 254 characters: 422"
req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nocontainers"},"spec":{}}'
expect_status 422 Invalid "a pod without containers: 422"
like "$(jqb .message)" "spec.containers: Required value" "... spec.containers: Required value"
req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"noname"},"spec":{"containers":[{"name":"c"}]}}'
like "$(jqb .message)" "spec.containers\\[0\\].image: Required value" "a container without image: spec.containers[0].image"
req POST $NS/pods "$(pod_json badlabel '{"bad key!":"v"}')"
expect_status 422 Invalid "an invalid label key: 422"
req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"c","image":"i","resources":{"limits":{"memory":"12xyz"}}}]}}'
expect_status 422 Invalid "an invalid resource quantity: 422"
like "$(jqb .message)" "resources.limits\\[memory\\]" "... naming resources.limits[memory]"
req POST $NS/pods '{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{"containers":[{"name":"c","image":"i"}]}}'
expect_status 422 Invalid "no name and no generateName: 422"
req POST $NS/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":99999}]}}'
expect_status 422 Invalid "a port out of range: 422"

# ---- selectors, revisions, methods
req GET "$NS/pods?labelSelector=a%20in%20b"
expect_status 400 BadRequest "an invalid label selector: 400"
req GET "$NS/pods?fieldSelector=nope%3D1"
expect_status 400 BadRequest "an unsupported field selector: 400"
req GET "$NS/pods?limit=-1"
expect_status 400 BadRequest "a negative limit: 400"
req GET "$NS/pods?watch=1&resourceVersion=abc"
expect_status 400 BadRequest "a non-numeric resourceVersion on a watch: 400"
req POST $NS/configmaps '{"metadata":{"name":"cm"}}'
expect 201 "(a configmap to update)"
rv_cm=$(jqb .metadata.resourceVersion)
req PATCH $NS/configmaps/cm '{"data":{"a":"1"}}' application/merge-patch+json
req PUT $NS/configmaps/cm "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"$rv_cm\"},\"data\":{\"a\":\"2\"}}"
expect_status 409 Conflict "an update at a stale resourceVersion: 409"
req GET $NS/configmaps/cm
is "$(jqb .data.a)" 1 "... did not change it"
req PUT $NS/configmaps/cm '{"metadata":{"name":"cm","resourceVersion":"not-a-number"},"data":{}}'
expect_status 422 Invalid "a resourceVersion that is not a number: 422"
req POST $NS/configmaps/cm '{"metadata":{"name":"cm"}}'
expect_status 405 MethodNotAllowed "POST on an object: 405"
req PUT $NS/configmaps '{"metadata":{"name":"cm"}}'
expect_status 405 MethodNotAllowed "PUT on a collection: 405"
req DELETE /api/v1/namespaces
expect_status 405 MethodNotAllowed "no deletecollection of namespaces (as Kubernetes)"
req DELETE $NS/configmaps/cm '{"gracePeriodSeconds":"soon"}'
expect_status 400 BadRequest "DeleteOptions with a bad type: 400"
req DELETE $NS/configmaps/cm '{"propagationPolicy":"Sometimes"}'
expect_status 400 BadRequest "an unknown propagationPolicy: 400"

# ---- nothing stored, and the server is fine
rev1=$(revision)
is "$rev1" "$((rev0 + 2))" "only the two valid writes were stored"
req GET $NS/pods
is "$(jqb '.items | length')" 0 "no pod was stored"
is "$(curl -sS --cacert "$SRV_CA" "$SRV_URL/healthz")" ok "the server keeps serving"
ok "... it is still the same process" kill -0 "$SRV_PID"

done_testing
