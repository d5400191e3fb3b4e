#!/bin/bash
# 200 pod create/delete cycles (each pod with a hostPort and behind a
# Service) leave no veth, IP allocation, nft element or netns mount.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/net_lib.sh"

node_up || { fail "node up"; done_testing; }
failures=0
for i in $(seq 1 200); do
	out=$(netcmd net-pod add "leak-$i" -p tcp:9000:80 -p udp:9001:53) || { failures=$((failures + 1)); continue; }
	ip=${out%% *}
	printf 'kind: Service\nmetadata: {name: s%s}\nspec:\n  clusterIP: 10.96.1.1\n  ports: [{port: 80, nodePort: 30001}]\n---\nkind: Endpoints\nmetadata: {name: s%s}\nsubsets: [{addresses: [{ip: %s}], ports: [{port: 80}]}]\n' \
		"$i" "$i" "$ip" >"$TEST_TMP/s.yaml"
	netcmd net-svc set "$TEST_TMP/s.yaml" >/dev/null || failures=$((failures + 1))
	netcmd net-svc del "default/s$i" >/dev/null || failures=$((failures + 1))
	netcmd net-pod del "leak-$i" || failures=$((failures + 1))
done
is "$failures" "0" "200 cycles of pod add, Service set and delete, pod delete"
# the kernel destroys a released netns (and its veth pair) in a worker
no_veth() { [[ $(innode ip -o link show master "$BR" | wc -l) == 0 ]]; }
wait_for 20 no_veth
is "$(innode ip -o link show master "$BR" | wc -l)" "0" "no veth left on the bridge"
is "$(innode ip -o link | grep -c ' sk[0-9a-f]\{12\}')" "0" "no pod veth left in the node"
is "$(ls "$STATE/net/ipam" | grep -vc '^lock$\|^last$')" "0" "no IP allocation left"
is "$(ls "$STATE/net/pods" | wc -l)" "0" "no pod state left"
is "$(ls "$STATE/netns" | wc -l)" "0" "no netns file left"
is "$(grep -c "$STATE/netns/" /proc/self/mountinfo)" "0" "no netns mount left"
# the netns directory itself stays a (shared) mount until node cleanup;
# other mounts on the machine are other tests' business
is "$(grep -c " $STATE" /proc/self/mountinfo)" "1" "no mount of ours left but the netns directory"
tbl=$(innode nft list table ip "$TABLE")
is "$(echo "$tbl" | grep -c 'elements = ')" "0" "no nft map or set element left"
is "$(echo "$tbl" | grep -cE 'chain (svc|ep|ext)-|set aff-')" "0" "no Service chain or set left"
is "$(ls "$STATE/net/services" "$STATE/net/clusterips" "$STATE/net/nodeports" 2>/dev/null | grep -vc ':$\|^$')" "0" "no Service state or claim left"
done_testing
