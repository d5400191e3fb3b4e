#!/bin/bash
# The Service dataplane with real packets: a ClusterIP over three web pods,
# endpoint removal, ClientIP affinity, NodePort, hairpin, refusal without
# endpoints, and changes that touch only the Service that changed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/net_lib.sh"

node_up || { fail "node up"; done_testing; }
for p in web-1 web-2 web-3 client; do pod_add $p || fail "pod $p"; done
for p in web-1 web-2 web-3; do serve $p 8888 "$p"; done

# an outside host on 192.0.2.0/24, to reach NodePorts from
ip netns add "$NODE-x" && defer "ip netns del $NODE-x"
innode ip link add skup type veth peer name eth0 netns "$NODE-x"
innode ip addr add 192.0.2.1/24 dev skup && innode ip link set skup up
nsenter --net="/run/netns/$NODE-x" sh -c 'ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up'

# service NAME IP AFFINITY NODEPORT EP...: write and set a Service manifest
service() {
	local name=$1 ip=$2 aff=$3 np=$4 f=$TEST_TMP/$1.yaml
	shift 4
	{
		echo "kind: Service"
		echo "apiVersion: v1"
		echo "metadata: {name: $name, namespace: default}"
		echo "spec:"
		echo "  clusterIP: $ip"
		echo "  sessionAffinity: $aff"
		echo "  ports:"
		echo "  - {protocol: TCP, port: 80, targetPort: 8888${np:+, nodePort: $np}}"
		echo "---"
		echo "kind: Endpoints"
		echo "apiVersion: v1"
		echo "metadata: {name: $name, namespace: default}"
		echo "subsets:"
		echo "- addresses: [$(for p in "$@"; do printf '{ip: %s}, ' "${POD_IP[$p]}"; done | sed 's/, $//')]"
		echo "  ports: [{port: 8888}]"
	} >"$f"
	netcmd net-svc set "$f"
}

# hits FROM N URL: N requests from pod FROM (or "node"), one answer a line
hits() {
	local from=$1 n=$2 url=$3 i
	for ((i = 0; i < n; i++)); do
		if [[ $from == node ]]; then
			innode timeout 3 busybox wget -q -O- "$url" 2>/dev/null
		else
			inpod "$from" timeout 3 busybox wget -q -O- "$url" 2>/dev/null
		fi
	done
}

ok "set a Service with 3 endpoints" service web 10.96.0.10 None 30080 web-1 web-2 web-3
hits client 300 http://10.96.0.10/ >"$TEST_TMP/h300"
is "$(wc -l <"$TEST_TMP/h300")" "300" "300 requests to ClusterIP:port all answered"
for p in web-1 web-2 web-3; do
	n=$(grep -c "^$p\$" "$TEST_TMP/h300")
	((n >= 45)) && pass "$p got $n of 300 (>= 15%)" || fail "$p got $n of 300 (< 15%)"
done

# a second Service; changing the first must not touch it: watch the
# kernel's own report of the transaction (nft monitor)
ok "set a second Service" service other 10.96.0.11 None "" web-1
nsenter --net="/run/netns/$NODE" nft monitor >"$TEST_TMP/monitor" 2>&1 &
mon=$!
defer "kill $mon 2>/dev/null"
sleep 0.3
ok "update the first Service: web-3 taken out" service web 10.96.0.10 None 30080 web-1 web-2
sleep 0.3
kill $mon
after=$(innode nft -a list table ip "$TABLE")
like "$(cat "$TEST_TMP/monitor")" "delete element ip $TABLE service-backends-tcp \\{ 10\\.96\\.0\\.10 " "the update removed the first Service's backend element"
unlike "$(cat "$TEST_TMP/monitor")" "10\\.96\\.0\\.11|flush|delete table|delete chain" "and touched nothing of the other Service, flushed nothing"
# ClusterIP and NodePort each: the verdict element (goto pick-3 -> pick-2,
# a delete and an add) and the one backend element of web-3
is "$(grep -c 'element' "$TEST_TMP/monitor")" "6" "only the changed elements were sent"
hits client 60 http://10.96.0.10/ >"$TEST_TMP/h60"
is "$(grep -c '^web-3$' "$TEST_TMP/h60")" "0" "a removed endpoint gets no more traffic"
is "$(sort -u "$TEST_TMP/h60" | tr '\n' ' ')" "web-1 web-2 " "the other two still do"
unlike "$(innode nft list map ip "$TABLE" service-backends-tcp; innode nft list map ip "$TABLE" nodeport-backends-tcp)" \
	"${POD_IP[web-3]} " "no backend element names the removed endpoint"

ok "ClientIP affinity" service web 10.96.0.10 ClientIP 30080 web-1 web-2 web-3
hits client 30 http://10.96.0.10/ >"$TEST_TMP/haff"
is "$(sort -u "$TEST_TMP/haff" | wc -l)" "1" "30 requests from one client stick to one pod"
is "$(wc -l <"$TEST_TMP/haff")" "30" "and were all answered"

ok "back to no affinity" service web 10.96.0.10 None 30080 web-1 web-2 web-3
unlike "$(innode nft list table ip "$TABLE")" "set aff-" "affinity sets removed with affinity"
hits node 30 http://192.0.2.1:30080/ >"$TEST_TMP/hnp"
is "$(sort -u "$TEST_TMP/hnp" | wc -l)" "3" "NodePort on the node's address reaches all pods (from the node)"
hits node 3 http://10.96.0.10/ >"$TEST_TMP/hnode"
is "$(wc -l <"$TEST_TMP/hnode")" "3" "ClusterIP from the node itself"
is "$(nsenter --net="/run/netns/$NODE-x" timeout 3 busybox wget -q -O- http://192.0.2.1:30080/ | grep -c web-)" "1" \
	"NodePort from another host"
hits web-1 30 http://10.96.0.10/ >"$TEST_TMP/hhair"
like "$(sort -u "$TEST_TMP/hhair" | tr '\n' ' ')" "web-1" "hairpin: web-1 reaches itself through its Service"
is "$(wc -l <"$TEST_TMP/hhair")" "30" "hairpin: every request answered"

# UDP: a DNS server in web-2 behind a UDP Service (and a NodePort)
UPDNS=(--state-dir "$TEST_TMP/updns" --cluster-domain example.test)
background nsenter --net="$STATE/netns/web-2" "$SKIFF" net-dns "${UPDNS[@]}" --listen 0.0.0.0 --port 5353 --upstream 127.0.0.1:9
cat >"$TEST_TMP/udp.yaml" <<Y
kind: Service
metadata: {name: dns}
spec: {clusterIP: 10.96.0.53, ports: [{protocol: UDP, port: 53, targetPort: 5353, nodePort: 30053}]}
---
kind: Endpoints
metadata: {name: dns}
subsets: [{addresses: [{ip: ${POD_IP[web-2]}}], ports: [{port: 5353, protocol: UDP}]}]
Y
ok "a UDP Service" quiet netcmd net-svc set "$TEST_TMP/udp.yaml"
wait_for 5 inpod client "$SKIFF" net-dnsq 10.96.0.53 x.y.svc.example.test A
is "$(inpod client "$SKIFF" net-dnsq 10.96.0.53 x.y.svc.example.test A)" "NXDOMAIN" "a UDP query to ClusterIP:53 is answered by the pod"
is "$(innode "$SKIFF" net-dnsq 192.0.2.1:30053 x.y.svc.example.test A)" "NXDOMAIN" "and through its UDP NodePort"

ok "no endpoints" service web 10.96.0.10 None 30080
start=$(date +%s%N)
out=$(inpod client timeout 5 busybox wget -q -O- http://10.96.0.10/ 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "refused" "no endpoints: connection refused"
((ms < 1000)) && pass "refused at once (${ms} ms)" || fail "refused at once" "took ${ms} ms"
like "$(innode timeout 5 busybox wget -q -O- http://192.0.2.1:30080/ 2>&1)" "refused" "no endpoints: NodePort refused too"
like "$(innode timeout 5 busybox wget -q -O- http://10.96.0.10/ 2>&1)" "refused" "no endpoints: refused from the node"

ok "delete a Service" quiet netcmd net-svc del default/web
ok "delete the other" quiet netcmd net-svc del default/other
ok "delete the UDP Service" quiet netcmd net-svc del default/dns
is "$(innode nft list table ip "$TABLE" | grep -cE 'chain (svc|ep|ext)-|10\.96\.')" "0" "no chain or element of a deleted Service left"
unlike "$(inpod client timeout 2 busybox wget -q -O- http://10.96.0.10/ 2>&1)" "web-" "a deleted ClusterIP no longer answers"
done_testing
