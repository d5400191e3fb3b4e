#!/bin/bash
# The server's surface: TLS and ALPN, tokens, the admin kubeconfig, public
# endpoints, discovery, /version and /openapi/v2 as kubectl needs them.
. "$(dirname "$0")/server_lib.sh"

srv_start

# ---- credentials and TLS
ok "the admin kubeconfig is in the data dir" test -s "$SRV_DIR/admin.kubeconfig"
is "$(stat -c %a "$SRV_DIR/admin.kubeconfig")" 600 "the kubeconfig is private (0600)"
is "$(stat -c %a "$SRV_DIR/token")" 600 "the token is private (0600)"
like "$(cat "$SRV_DIR/admin.kubeconfig")" "certificate-authority-data: [A-Za-z0-9+/=]{100,}" \
	"the kubeconfig carries the CA"
like "$SRV_URL" '^https://127\.0\.0\.1:[0-9]+$' "the kubeconfig names the real port"
ca=$(grep certificate-authority-data "$SRV_DIR/admin.kubeconfig" | awk '{print $2}' | base64 -d)
is "$ca" "$(cat "$SRV_CA")" "the kubeconfig's CA is the cluster CA"
like "$(openssl x509 -in "$SRV_DIR/tls/server.crt" -noout -ext subjectAltName 2>&1)" \
	"IP Address:127.0.0.1" "the server certificate names 127.0.0.1"
ok "the server certificate verifies against the CA" quiet \
	openssl verify -CAfile "$SRV_CA" "$SRV_DIR/tls/server.crt"
host=${SRV_URL#https://}
alpn=$(openssl s_client -connect "$host" -alpn h2,http/1.1 -CAfile "$SRV_CA" </dev/null 2>/dev/null |
	grep -i '^ALPN protocol')
is "$alpn" "ALPN protocol: http/1.1" "ALPN: http/1.1 is chosen over h2"
alpn=$(openssl s_client -connect "$host" -alpn h2 -CAfile "$SRV_CA" </dev/null 2>/dev/null |
	grep -ci 'ALPN protocol: h2')
is "$alpn" 0 "ALPN: h2 is never negotiated"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$host/healthz")
unlike "$code" "^200$" "plain HTTP is not served"

# ---- authentication
REQ_TOKEN="" req GET /api/v1/namespaces
expect_status 401 Unauthorized "no token: 401 Unauthorized Status"
REQ_TOKEN=wrong-token req GET /api/v1/namespaces
expect_status 401 Unauthorized "a wrong token: 401"
REQ_TOKEN="${SRV_TOKEN}x" req GET /api/v1/pods
expect_status 401 Unauthorized "a token with one character more: 401"
REQ_TOKEN=$(cat "$SRV_DIR/node-token") req GET /api/v1/namespaces
expect 200 "the node join token is accepted"
like "$(cat "$SRV_DIR/node-token")" "^K10$(sha256sum "$SRV_CA" | cut -c1-64)::node:[0-9a-f]{32}\$" \
	"node-token is K10<sha256 of the CA>::node:<secret>"
for p in /healthz /livez /readyz /version /cacerts; do
	code=$(curl -sS --cacert "$SRV_CA" -o /dev/null -w '%{http_code}' "$SRV_URL$p")
	is "$code" 200 "$p answers without credentials"
done
is "$(curl -sS --cacert "$SRV_CA" "$SRV_URL/cacerts")" "$(cat "$SRV_CA")" "/cacerts is the CA"

# ---- version and openapi
req GET /version
is "$(jqb '.major + "." + .minor + " " + .gitVersion')" "1.33 v1.33.0+skiff" \
	"/version reports 1.33 (kubectl's dispatcher picks kubectl 1.33)"
curl -sS --cacert "$SRV_CA" -H "Authorization: Bearer $SRV_TOKEN" -D "$TEST_TMP/h" \
	-o "$TEST_TMP/oa" "$SRV_URL/openapi/v2?timeout=32s"
like "$(cat "$TEST_TMP/h")" "HTTP/1.1 200" "/openapi/v2 answers 200"
like "$(cat "$TEST_TMP/h")" "Content-Type: application/octet-stream" \
	"/openapi/v2 is application/octet-stream"
is "$(stat -c %s "$TEST_TMP/oa")" 0 "/openapi/v2 is empty (a valid empty protobuf document)"
req GET /openapi/v3
expect 404 "/openapi/v3 is 404 (kubectl falls back to v2)"
req GET /metrics
like "$BODY" "skiff_store_revision [0-9]+" "/metrics in Prometheus text"

# ---- discovery
req GET /api
is "$(jqb '.kind + " " + (.versions|join(","))')" "APIVersions v1" "/api lists v1"
like "$(jqb '.serverAddressByClientCIDRs[0].serverAddress')" "^127\.0\.0\.1:[0-9]+$" \
	"/api names the server address"
req GET /apis
is "$(jqb '[.groups[].name] | join(",")')" "apps,coordination.k8s.io" "/apis lists apps and coordination.k8s.io"
is "$(jqb '.groups[0].preferredVersion.groupVersion')" "apps/v1" "apps prefers apps/v1"
req GET /apis/apps
is "$(jqb '.kind + " " + .name')" "APIGroup apps" "/apis/apps is an APIGroup"
req GET /api/v1
is "$(jqb '.groupVersion')" v1 "/api/v1 is the v1 resource list"
is "$(jqb '.resources[] | select(.name=="pods") | .namespaced')" true "pods are namespaced"
is "$(jqb '.resources[] | select(.name=="pods") | .shortNames[0]')" po "pods have shortName po"
is "$(jqb '.resources[] | select(.name=="pods") | .categories[0]')" all "pods are in category all"
is "$(jqb '.resources[] | select(.name=="namespaces") | .namespaced')" false "namespaces are cluster-scoped"
is "$(jqb '.resources[] | select(.name=="nodes") | .namespaced')" false "nodes are cluster-scoped"
is "$(jqb '.resources[] | select(.name=="persistentvolumes") | .namespaced')" false \
	"persistentvolumes are cluster-scoped"
for r in pods/status pods/binding services/status namespaces/finalize nodes/status; do
	is "$(jqb ".resources[] | select(.name==\"$r\") | .name")" "$r" "discovery lists $r"
done
for r in configmaps secrets endpoints events persistentvolumeclaims; do
	is "$(jqb ".resources[] | select(.name==\"$r\") | .name")" "$r" "discovery lists $r"
done
req GET /apis/apps/v1
is "$(jqb '.resources[] | select(.name=="deployments/scale") | .group + "/" + .version + " " + .kind')" \
	"autoscaling/v1 Scale" "deployments/scale is autoscaling/v1 Scale"
is "$(jqb '.resources[] | select(.name=="deployments") | .categories[0]')" all \
	"deployments are in category all"
is "$(jqb '.resources[] | select(.name=="replicasets") | .shortNames[0]')" rs "replicasets: rs"
req GET /apis/coordination.k8s.io/v1
is "$(jqb '.resources[] | select(.name=="leases") | .kind')" Lease "leases are served"
req GET /apis/nope/v1
expect_status 404 NotFound "an unknown group: 404"
req GET /api/v1/nopes
expect_status 404 NotFound "an unknown resource: 404"
is "$(jqb .message)" "the server could not find the requested resource" "... with kubectl's message"

# ---- bootstrap objects
req GET /api/v1/namespaces
is "$(jqb '[.items[].metadata.name] | join(",")')" "default,kube-node-lease,kube-public,kube-system" \
	"default, kube-system, kube-public and kube-node-lease exist"
is "$(jqb '[.items[].status.phase] | unique | join(",")')" Active "they are Active"
req GET /api/v1/namespaces/default/services/kubernetes
is "$(jqb .spec.clusterIP)" 10.96.0.1 "the kubernetes Service has the range's first address"
is "$(jqb '.spec.ports[0].port')" 443 "... on port 443"
req GET /api/v1/namespaces/default/endpoints/kubernetes
is "$(jqb '.subsets[0].ports[0].port')" "${SRV_URL##*:}" "its Endpoints point at this server"

# ---- the server keeps its state and credentials over a restart
token=$SRV_TOKEN
kill "$SRV_PID"
wait "$SRV_PID"
is "$?" 0 "SIGTERM stops the server cleanly (exit 0)"
srv_launch
is "$SRV_TOKEN" "$token" "the token survives a restart"
req GET /api/v1/namespaces/default/services/kubernetes
is "$(jqb .spec.clusterIP)" 10.96.0.1 "the kubernetes Service survives"
"$SKIFF" server --data-dir "$SRV_DIR" --listen 127.0.0.1:0 >"$TEST_TMP/second.log" 2>&1
is "$?" 1 "a second server on the same data dir is refused"
like "$(cat "$TEST_TMP/second.log")" "in use by another skiff server" "... saying why"

done_testing
