#!/bin/bash
# Bad input to the network commands: a clear error naming the field, and
# nothing half-made. (Malformed DNS packets: net_dns.t and the unit test.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/net_lib.sh"

node_up || { fail "node up"; done_testing; }
err() { "$@" 2>&1 >/dev/null; }

like "$(err netcmd net-node up --pod-cidr 10.88.0.0/33)" 'pod CIDR: "10\.88\.0\.0/33": not a CIDR' "prefix out of range"
like "$(err netcmd net-node up --pod-cidr 10.88.0.1/24)" 'pod CIDR: "10\.88\.0\.1/24": host bits are set' "host bits set"
like "$(err netcmd net-node up --pod-cidr banana)" 'pod CIDR: "banana": not a CIDR' "not a CIDR at all"
like "$(err netcmd net-node up --pod-cidr 10.99.0.0/24)" 'pod CIDR: not inside the cluster CIDR' "pod CIDR outside the cluster CIDR"
like "$(err netcmd net-node up --service-cidr 10.88.128.0/20)" 'service CIDR: overlaps the cluster CIDR' "service CIDR overlapping pods"
like "$(err netcmd net-node up --pod-cidr 10.88.0.0/31)" 'at most /30' "pod CIDR too small"
like "$(err innode "$SKIFF" net-node up --state-dir "$TEST_TMP/x" --table "${TABLE}_x" --bridge this-name-is-too-long)" 'bridge: .*not an interface name' "bridge name too long"
like "$(err netcmd net-pod add ../escape)" 'pod uid "\.\./escape": not a valid uid' "a uid cannot name a path"
like "$(err netcmd net-pod add p1 -p tcp:70000:80)" 'port out of range' "hostPort out of range"
like "$(err netcmd net-pod add p1 -p sctp:8000:80)" 'protocol must be tcp or udp' "hostPort protocol"

svc() {
	printf '%s\n' "$2" >"$TEST_TMP/$1.yaml"
	netcmd net-svc set "$TEST_TMP/$1.yaml"
}
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 70000}]}')" 'spec.ports\[0\].port: 70000: must be 1-65535' "Service port out of range"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, targetPort: -1}]}')" 'spec.ports\[0\].targetPort: -1: must be 1-65535' "targetPort out of range"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, nodePort: 8080}]}')" 'spec.ports\[0\].nodePort: 8080: must be 30000-32767' "NodePort out of its range"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 192.168.1.1, ports: [{port: 80}]}')" 'spec.clusterIP: 192\.168\.1\.1: not in the service CIDR' "ClusterIP outside the service CIDR"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}')" 'spec.clusterIP: "10\.96\.0\.300": not an IPv4 address' "ClusterIP not an address"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}, {port: 81}]}')" 'spec.ports\[0\].name: required' "several ports need names"
like "$(err svc a 'kind: Service
metadata: {name: A_b}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}')" 'metadata.name: "A_b": not a DNS label' "bad Service name"
like "$(err svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}
')" 'a.yaml:[0-9]+:[0-9]+' "malformed YAML names file, line and column"

ok "a Service" svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, nodePort: 30080}]}'
like "$(err svc b 'kind: Service
metadata: {name: b}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}')" 'spec.clusterIP: 10\.96\.0\.10: already allocated to Service default/a' "duplicate ClusterIP"
like "$(err svc b 'kind: Service
metadata: {name: b}
spec: {clusterIP: 10.96.0.11, ports: [{port: 80, nodePort: 30080}]}')" 'nodePort: tcp-30080: already allocated to Service default/a' "duplicate NodePort"
unlike "$(innode nft list table ip "$TABLE")" '10\.96\.0\.11' "a refused Service left no rule"
ok "the same Service set again is fine" svc a 'kind: Service
metadata: {name: a}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80, nodePort: 30080}]}'
like "$(err netcmd net-svc del default/nope)" 'service default/nope' "deleting an unknown Service names it"
done_testing
