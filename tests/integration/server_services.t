#!/bin/bash
# Services get a ClusterIP from the service CIDR and NodePorts from
# 30000-32767, with duplicates refused and addresses released on delete;
# Secrets are encrypted at rest and base64 in the API.
. "$(dirname "$0")/server_lib.sh"

srv_start --service-cidr 10.97.0.0/24
NS=/api/v1/namespaces/default

svc() { # NAME [SPEC-EXTRA]
	jq -cn --arg n "$1" --argjson x "${2:-{\}}" \
		'{apiVersion:"v1",kind:"Service",metadata:{name:$n},
		  spec:({selector:{app:$n},ports:[{protocol:"TCP",port:80,targetPort:8888}]} + $x)}'
}

# ---- ClusterIP
req GET $NS/services/kubernetes
is "$(jqb .spec.clusterIP)" 10.97.0.1 "--service-cidr: the kubernetes Service has its first address"
req POST $NS/services "$(svc test-service)"
expect 201 "create the seed's Service"
ip=$(jqb .spec.clusterIP)
like "$ip" '^10\.97\.0\.([0-9]+)$' "it gets a ClusterIP in the range"
is "$(jqb '.spec.clusterIPs | join(",")')" "$ip" "... clusterIPs as well"
is "$(jqb .spec.type)" ClusterIP "defaults: type ClusterIP"
is "$(jqb .spec.sessionAffinity)" None "defaults: sessionAffinity None"
is "$(jqb '.spec.ports[0].targetPort')" 8888 "the targetPort is kept"
is "$(jqb '.spec.ports[0].nodePort // "none"')" none "a ClusterIP Service has no nodePort"
req POST $NS/services "$(svc fixed '{"clusterIP":"10.97.0.50"}')"
expect 201 "ask for a ClusterIP"
is "$(jqb .spec.clusterIP)" 10.97.0.50 "... and get it"
req POST $NS/services "$(svc dup '{"clusterIP":"10.97.0.50"}')"
expect_status 422 Invalid "the same ClusterIP again: 422"
like "$(jqb .message)" "provided IP is already allocated" "... provided IP is already allocated"
is "$(jqb '.details.causes[0].field')" spec.clusterIPs "... on spec.clusterIPs"
req POST $NS/services "$(svc outside '{"clusterIP":"10.96.5.5"}')"
expect_status 422 Invalid "a ClusterIP outside the range: 422"
like "$(jqb .message)" "not in the valid range" "... not in the valid range"
req POST $NS/services "$(svc headless '{"clusterIP":"None"}')"
expect 201 "a headless Service"
is "$(jqb .spec.clusterIP)" None "... keeps clusterIP None"
req PATCH $NS/services/fixed '{"spec":{"clusterIP":"10.97.0.51"}}' application/merge-patch+json
expect_status 422 Invalid "the ClusterIP may not change"
req GET $NS/services/fixed
req PUT $NS/services/fixed "$(jq -c 'del(.spec.clusterIP) | del(.spec.clusterIPs) | .metadata.labels={"l":"1"}' <<<"$BODY")"
expect 200 "a PUT that leaves the ClusterIP out"
is "$(jqb .spec.clusterIP)" 10.97.0.50 "... keeps it"
req DELETE $NS/services/fixed
req POST $NS/services "$(svc again '{"clusterIP":"10.97.0.50"}')"
expect 201 "a deleted Service's address can be taken again"

# the /24 has 254 usable addresses: fill it, then one more is refused
n=0
while :; do
	req POST $NS/services "$(svc "fill$n")"
	[[ $CODE == 201 ]] || break
	n=$((n + 1))
	((n > 300)) && break
done
is "$n" 251 "the range fills up (254 usable addresses minus the 3 taken)"
expect_status 422 Invalid "... then a create is refused"
req DELETE $NS/services/fill7
req POST $NS/services "$(svc after-free)"
expect 201 "after a delete there is room for one"

# ---- NodePorts
for i in 8 9 10 11 12 13; do req DELETE $NS/services/fill$i; done
req POST $NS/services "$(svc np '{"type":"NodePort"}')"
expect 201 "a NodePort Service"
np=$(jqb '.spec.ports[0].nodePort')
((np >= 30000 && np <= 32767)) && pass "it gets a nodePort in 30000-32767 ($np)" ||
	fail "nodePort in range" "$np"
req POST $NS/services "$(svc np2 "{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":$np}]}")"
expect_status 422 Invalid "the same nodePort again: 422"
like "$(jqb .message)" "spec.ports\\[0\\].nodePort: Invalid value: $np: provided port is already allocated" \
	"... spec.ports[0].nodePort: provided port is already allocated"
req POST $NS/services "$(svc np3 '{"type":"NodePort","ports":[{"port":80,"nodePort":80}]}')"
expect_status 422 Invalid "a nodePort outside the range: 422"
req POST $NS/services "$(svc np4 '{"type":"NodePort","ports":[{"port":80,"nodePort":31234}]}')"
expect 201 "ask for nodePort 31234"
is "$(jqb '.spec.ports[0].nodePort')" 31234 "... and get it"
req PATCH $NS/services/np4 '{"spec":{"type":"ClusterIP","ports":[{"port":80,"nodePort":null}]}}' \
	application/strategic-merge-patch+json
is "$(jqb '.spec.ports[0].nodePort // "none"')" none "changing to ClusterIP drops the nodePort"
req POST $NS/services "$(svc np5 '{"type":"NodePort","ports":[{"port":80,"nodePort":31234}]}')"
expect 201 "... and releases it"

# ---- allocations survive a restart (rebuilt from the stored Services)
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
srv_launch --service-cidr 10.97.0.0/24
req POST $NS/services "$(svc after-restart '{"clusterIP":"10.97.0.50"}')"
expect_status 422 Invalid "after a restart, a taken address is still taken"
req POST $NS/services "$(svc np6 '{"type":"NodePort","ports":[{"port":80,"nodePort":31234}]}')"
expect_status 422 Invalid "... and a taken nodePort too"

# ---- Secrets
secret=$(jq -cn '{apiVersion:"v1",kind:"Secret",metadata:{name:"db"},
	data:{password:("Sup3r-Secret-Passw0rd"|@base64)},stringData:{user:"admin-user-name"}}')
req POST $NS/secrets "$secret"
expect 201 "create a Secret"
is "$(jqb .data.password | base64 -d)" Sup3r-Secret-Passw0rd "data is base64 in the API"
is "$(jqb .type)" Opaque "defaults: type Opaque"
req GET $NS/secrets/db
is "$(jqb .data.password | base64 -d)" Sup3r-Secret-Passw0rd "GET returns it decrypted"
db=$SRV_DIR/state.db
found=$(cat "$db" "$db-wal" 2>/dev/null | grep -ac -e Sup3r-Secret-Passw0rd -e "$(printf Sup3r-Secret-Passw0rd | base64)")
is "$found" 0 "the secret is in no database file, in clear or base64"
is "$(cat "$db" "$db-wal" 2>/dev/null | grep -ac 'k8s:enc:aesgcm:v1:skiff:')" 1 \
	"... it is stored in the AES-GCM envelope"
is "$(stat -c %a "$SRV_DIR/secrets.key") $(stat -c %s "$SRV_DIR/secrets.key")" "600 32" \
	"the key is 32 bytes in the data dir, private"
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
srv_launch --service-cidr 10.97.0.0/24
req GET $NS/secrets/db
is "$(jqb .data.password | base64 -d)" Sup3r-Secret-Passw0rd "after a restart it reads back"
cp "$SRV_DIR/secrets.key" "$TEST_TMP/key"
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
head -c 32 /dev/urandom >"$SRV_DIR/secrets.key"
"$SKIFF" server --data-dir "$SRV_DIR" --listen 127.0.0.1:0 >"$TEST_TMP/wrongkey.log" 2>&1 &
wpid=$!
defer "kill -9 $wpid 2>/dev/null"
sleep 2
kill -9 $wpid 2>/dev/null
like "$(cat "$TEST_TMP/wrongkey.log")" "decrypt secrets/default/db.*wrong key" \
	"with another key the server refuses to start, and says why"
cp "$TEST_TMP/key" "$SRV_DIR/secrets.key"

done_testing
