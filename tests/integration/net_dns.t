#!/bin/bash
# Cluster DNS with real packets, asked from inside a pod: a Service, a
# headless Service, SRV, pod names, NXDOMAIN, a name forwarded to an
# upstream resolver the test runs on loopback, the search path of the
# pod's resolv.conf, TCP, and malformed packets.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/net_lib.sh"
need_cmd unshare

node_up || { fail "node up"; done_testing; }
for p in a web-1 web-2; do pod_add $p || fail "pod $p"; done

cat >"$TEST_TMP/web.yaml" <<Y
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8888}]
---
kind: Endpoints
metadata: {name: web, namespace: default}
subsets: [{addresses: [{ip: ${POD_IP[web-1]}}], ports: [{name: http, port: 8888}]}]
Y
cat >"$TEST_TMP/headless.yaml" <<Y
kind: Service
metadata: {name: db, namespace: prod}
spec:
  clusterIP: None
  ports: [{name: pg, protocol: TCP, port: 5432}]
---
kind: Endpoints
metadata: {name: db, namespace: prod}
subsets: [{addresses: [{ip: ${POD_IP[web-1]}, hostname: db-0}, {ip: ${POD_IP[web-2]}}], ports: [{name: pg, port: 5432}]}]
Y
ok "set a Service" quiet netcmd net-svc set "$TEST_TMP/web.yaml"
ok "set a headless Service" quiet netcmd net-svc set "$TEST_TMP/headless.yaml"

# the upstream: another skiff DNS server, authoritative for example.test,
# on loopback in the node's namespace
UP=(--state-dir "$TEST_TMP/up" --cluster-domain example.test)
cat >"$TEST_TMP/up.yaml" <<Y
kind: Service
metadata: {name: www, namespace: ext}
spec: {clusterIP: None}
---
kind: Endpoints
metadata: {name: www, namespace: ext}
subsets: [{addresses: [{ip: 192.0.2.80}]}]
Y
innode "$SKIFF" net-svc set "$TEST_TMP/up.yaml" "${UP[@]}"
background nsenter --net="/run/netns/$NODE" "$SKIFF" net-dns "${UP[@]}" --listen 127.0.0.1 --port 5300
background nsenter --net="/run/netns/$NODE" "$SKIFF" net-dns "${NOPTS[@]}" --upstream 127.0.0.1:5300
DNS_PID=$BG_PID
wait_for 5 innode "$SKIFF" net-dnsq 10.88.0.1 web.default.svc.cluster.local A
q() { inpod a "$SKIFF" net-dnsq "$@"; }

is "$(q 10.88.0.1 web.default.svc.cluster.local A)" \
	$'NOERROR\nweb.default.svc.cluster.local.\t5\tIN\tA\t10.96.0.10' "A: a Service's ClusterIP"
like "$(inpod a busybox nslookup web.default.svc.cluster.local 10.88.0.1)" "Address: 10\.96\.0\.10" \
	"busybox nslookup in the pod gets the ClusterIP"
is "$(q --tcp 10.88.0.1 web.default.svc.cluster.local A | tail -1 | cut -f5)" "10.96.0.10" "the same over TCP"
is "$(q 10.88.0.1 db.prod.svc.cluster.local A | tail -n +2 | cut -f5 | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "${POD_IP[web-1]}" "${POD_IP[web-2]}" | sort | tr '\n' ' ')" "A: a headless Service's ready pod IPs"
is "$(q 10.88.0.1 db-0.db.prod.svc.cluster.local A | tail -1 | cut -f5)" "${POD_IP[web-1]}" "A: a headless endpoint by hostname"
is "$(q 10.88.0.1 _http._tcp.web.default.svc.cluster.local SRV | tail -1 | cut -f5)" \
	"0 100 80 web.default.svc.cluster.local." "SRV for a named port"
like "$(inpod a busybox nslookup -type=srv _http._tcp.web.default.svc.cluster.local 10.88.0.1)" \
	"service = 0 100 80 web.default.svc.cluster.local" "busybox nslookup SRV"
like "$(q 10.88.0.1 _pg._tcp.db.prod.svc.cluster.local SRV)" "5432 db-0\.db\.prod\.svc\.cluster\.local\." "SRV of a headless Service names its endpoints"
is "$(q 10.88.0.1 10-88-0-77.default.pod.cluster.local A | tail -1 | cut -f5)" "10.88.0.77" "A: <a-b-c-d>.<ns>.pod"
is "$(q 10.88.0.1 nope.default.svc.cluster.local A)" "NXDOMAIN" "NXDOMAIN for an unknown Service"
is "$(q 10.88.0.1 x.y.z.cluster.local A)" "NXDOMAIN" "NXDOMAIN for an unknown cluster name"
is "$(q 10.88.0.1 WEB.Default.SVC.cluster.local A | tail -1 | cut -f5)" "10.96.0.10" "names are case-insensitive"
is "$(q 10.88.0.1 www.ext.svc.example.test A | tail -1 | cut -f5)" "192.0.2.80" "other names are forwarded upstream"
is "$(q --tcp 10.88.0.1 www.ext.svc.example.test A | tail -1 | cut -f5)" "192.0.2.80" "forwarded over TCP too"

# the pod's resolv.conf (ClusterFirst) makes short names work
netcmd net-resolv default >"$TEST_TMP/resolv.conf"
like "$(inpod a unshare -m sh -c "mount --bind $TEST_TMP/resolv.conf /etc/resolv.conf && busybox nslookup web")" \
	"Address: 10\.96\.0\.10" "a short name resolves through the search path"

# records follow the Services
ok "delete the Service" quiet netcmd net-svc del default/web
wait_for 3 sh -c "[ \"\$(nsenter --net=$STATE/netns/a $SKIFF net-dnsq 10.88.0.1 web.default.svc.cluster.local A)\" = NXDOMAIN ]"
is "$(q 10.88.0.1 web.default.svc.cluster.local A)" "NXDOMAIN" "a deleted Service's name is gone"

# malformed input: random datagrams, truncated and mutated queries, TCP garbage
innode bash -c '
	for i in $(seq 1 500); do head -c $((RANDOM % 600)) /dev/urandom >/dev/udp/10.88.0.1/53; done
	q=$(printf "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03web\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01" | od -An -tx1 | tr -d " \n")
	for i in $(seq 1 500); do
		n=$((RANDOM % 47)); m=$((RANDOM % 47))
		printf "%s" "$q" | head -c $((n * 2)) | xxd -r -p 2>/dev/null >/dev/udp/10.88.0.1/53 || true
		printf "%s" "$q" | sed "s/../$(printf %02x $((RANDOM % 256)))/$((m + 1))" | xxd -r -p 2>/dev/null >/dev/udp/10.88.0.1/53 || true
	done
	for i in $(seq 1 20); do head -c $((RANDOM % 3000)) /dev/urandom >/dev/tcp/10.88.0.1/53; done
	printf "\xff\xff\x00" >/dev/tcp/10.88.0.1/53
' 2>/dev/null
ok "the server survived malformed packets" kill -0 "$DNS_PID"
is "$(q 10.88.0.1 db.prod.svc.cluster.local A | head -1)" "NOERROR" "and still answers"

# an upstream that does not answer: SERVFAIL, not silence
background nsenter --net="/run/netns/$NODE" "$SKIFF" net-dns "${NOPTS[@]}" --listen 127.0.0.2 --upstream 127.0.0.1:5399
wait_for 5 innode "$SKIFF" net-dnsq 127.0.0.2 db.prod.svc.cluster.local A
is "$(innode "$SKIFF" net-dnsq 127.0.0.2 example.org A)" "SERVFAIL" "an upstream that does not answer gives SERVFAIL"
done_testing
