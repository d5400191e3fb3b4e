#!/bin/bash
# The Endpoints controller in a real `skiff server`: the Endpoints of a
# Service follow its pods' IPs, readiness and labels, with named and
# numbered targetPorts resolved per pod (pods that number a named port
# differently land in different subsets); writes only on change;
# Services without a selector are left alone; Endpoints go with their
# Service. Pod status is written by the test, as an agent would.
. "$(dirname "$0")/sched_lib.sh"

srv_start --disable-scheduler

# podat NAME IP READY [LABELS] [HTTP-PORT]: a pod bound to node-1, with
# a named container port "http", running with that IP
podat() {
	local labels=${4:-'{"app":"web"}'} port=${5:-8080}
	req POST $NS/pods "$(jq -cn --arg n "$1" --argjson l "$labels" --argjson p "$port" \
		'{metadata:{name:$n,labels:$l},spec:{nodeName:"node-1",containers:[{name:"c",
		  image:"busybox:1.36",ports:[{name:"http",containerPort:$p},
		  {name:"dns",containerPort:53,protocol:"UDP"}]}]}}')"
	[[ $CODE == 201 ]] || diag "create pod $1: $CODE $BODY"
	set_ready "$1" "$3" "$2"
}
# set_ready NAME True|False [IP]
set_ready() {
	local ip=${3:-}
	req PATCH "$NS/pods/$1/status" "$(jq -cn --arg r "$2" --arg ip "$ip" \
		'{status:({phase:"Running",conditions:[{type:"Ready",status:$r}]} +
		  (if $ip == "" then {} else {podIP:$ip,podIPs:[{ip:$ip}]} end))}')" \
		application/merge-patch+json
	[[ $CODE == 200 ]] || diag "status of pod $1: $CODE $BODY"
}

# eps NAME: the Endpoints as "READY-IPS|NOTREADY-IPS|PORTS" per subset,
# subsets separated by ";" (IPs and ports in the controller's order)
eps() {
	req GET "$NS/endpoints/$1"
	[[ $CODE == 200 ]] || { echo "HTTP $CODE"; return; }
	jqb '[.subsets[]? | ([.addresses[]?.ip] | join(",")) + "|" +
		([.notReadyAddresses[]?.ip] | join(",")) + "|" +
		([.ports[]? | "\(.name // "")/\(.port)/\(.protocol)"] | join(","))] | join(";")'
}
eps_is() { [[ $(eps "$1") == "$2" ]]; }
# wait_eps NAME WANT TEST-NAME
wait_eps() {
	if wait_for 10 eps_is "$1" "$2"; then
		pass "$3"
	else
		fail "$3" "got:  '$(eps "$1")'" "want: '$2'"
	fi
}

req POST $NS/services '{"metadata":{"name":"web","labels":{"tier":"fe"}},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"},{"name":"metrics","port":9000,"targetPort":9100},{"name":"dns","port":53,"targetPort":"dns","protocol":"UDP"}]}}'
expect 201 "create a Service with named and numbered targetPorts"
wait_eps web "" "an Endpoints with no subsets while no pod matches"
req GET $NS/endpoints/web
is "$(jqb .metadata.labels.tier)" fe "... it carries the Service's labels"

podat w1 10.88.0.11 True
podat w2 10.88.0.12 False
wait_eps web "10.88.0.11|10.88.0.12|dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"a ready pod in addresses, a not-ready one in notReadyAddresses; ports resolved by name"
req GET $NS/endpoints/web
is "$(jqb '.subsets[0].addresses[0] | "\(.nodeName) \(.targetRef.kind) \(.targetRef.name)"')" \
	"node-1 Pod w1" "an address names its node and pod"
is "$(jqb '.subsets[0].addresses[0].targetRef.uid')" "$(req GET $NS/pods/w1; jqb .metadata.uid)" \
	"... with the pod's uid"

set_ready w2 True
wait_eps web "10.88.0.11,10.88.0.12||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"the pod turns ready: it moves to addresses"
set_ready w1 False
wait_eps web "10.88.0.12|10.88.0.11|dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"a pod that turns not ready moves to notReadyAddresses"
set_ready w1 True

# a pod that numbers its "http" port differently: a subset of its own
podat w3 10.88.0.13 True '{"app":"web"}' 8081
wait_eps web "10.88.0.11,10.88.0.12||http/8080/TCP;10.88.0.11,10.88.0.12,10.88.0.13||dns/53/UDP,metrics/9100/TCP;10.88.0.13||http/8081/TCP" \
	"different numbers for a named port: different subsets"

# labels
req PATCH $NS/pods/w3 '{"metadata":{"labels":{"app":"other"}}}' application/merge-patch+json
wait_eps web "10.88.0.11,10.88.0.12||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"a pod whose labels stop matching leaves"
req PATCH $NS/pods/w3 '{"metadata":{"labels":{"app":"web"}}}' application/merge-patch+json
wait_eps web "10.88.0.11,10.88.0.12||http/8080/TCP;10.88.0.11,10.88.0.12,10.88.0.13||dns/53/UDP,metrics/9100/TCP;10.88.0.13||http/8081/TCP" \
	"... and comes back when they match again"
req DELETE "$NS/pods/w3?gracePeriodSeconds=0"
wait_eps web "10.88.0.11,10.88.0.12||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"a deleted pod leaves"

# terminating and finished pods, pods without an IP
req DELETE "$NS/pods/w2"
wait_eps web "10.88.0.11||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" \
	"a terminating pod leaves (before its node confirms)"
podat w4 "" True
req PATCH "$NS/pods/w1/status" '{"status":{"phase":"Succeeded"}}' application/merge-patch+json
wait_eps web "" "a finished pod leaves; a pod without an IP never comes"

# writes only on change
podat w5 10.88.0.15 True
wait_eps web "10.88.0.15||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" "a new ready pod"
req GET $NS/endpoints/web
rv=$(jqb .metadata.resourceVersion)
req PATCH $NS/pods/w5 '{"metadata":{"annotations":{"note":"unrelated"}}}' application/merge-patch+json
set_ready w5 True
req PATCH $NS/services/web '{"metadata":{"annotations":{"note":"unrelated"}}}' \
	application/merge-patch+json
podat x1 10.88.0.99 True '{"app":"else"}'
sleep 1
req GET $NS/endpoints/web
is "$(jqb .metadata.resourceVersion)" "$rv" "changes that do not matter do not write the Endpoints"

# the Service changes
req PATCH $NS/services/web '{"spec":{"selector":{"app":"else"}}}' application/merge-patch+json
wait_eps web "10.88.0.99||dns/53/UDP,http/8080/TCP,metrics/9100/TCP" "a new selector picks other pods"
req PATCH $NS/services/web '{"metadata":{"labels":{"tier":"be"}}}' application/merge-patch+json
labels_be() {
	req GET $NS/endpoints/web
	[[ $(jqb .metadata.labels.tier) == be ]]
}
ok "the Endpoints' labels follow the Service's" wait_for 10 labels_be

# the seed's Service: a numbered targetPort
req POST $NS/services '{"kind":"Service","apiVersion":"v1","metadata":{"name":"test-service"},"spec":{"selector":{"app":"test-app"},"ports":[{"protocol":"TCP","port":80,"targetPort":8888}]}}'
podat t1 10.88.0.21 True '{"app":"test-app"}'
podat t2 10.88.0.22 True '{"app":"test-app"}'
wait_eps test-service "10.88.0.21,10.88.0.22||/8888/TCP" \
	"test-service: both pods, targetPort 8888 (an unnamed port has no name)"

# headless, publishNotReadyAddresses, hostname
req POST $NS/services '{"metadata":{"name":"db"},"spec":{"clusterIP":"None","publishNotReadyAddresses":true,"selector":{"app":"db"}}}'
expect 201 "create a headless Service without ports"
req POST $NS/pods '{"metadata":{"name":"db-0","labels":{"app":"db"}},"spec":{"nodeName":"node-1","hostname":"db-0","subdomain":"db","containers":[{"name":"c","image":"busybox:1.36"}]}}'
set_ready db-0 False 10.88.0.31
wait_eps db "10.88.0.31||" "headless without ports: addresses only; publishNotReadyAddresses lists a not-ready pod as ready"
req GET $NS/endpoints/db
is "$(jqb '.subsets[0].addresses[0].hostname')" db-0 "hostname for a pod whose subdomain is the Service"
is "$(jqb '.metadata.labels["service.kubernetes.io/headless"]')" "" \
	"the headless label"
is "$(jqb '.metadata.labels | has("service.kubernetes.io/headless")')" true "... is there"

# a Service without a selector: its Endpoints are the user's
req POST $NS/services '{"metadata":{"name":"ext"},"spec":{"ports":[{"port":5432}]}}'
req POST $NS/endpoints '{"metadata":{"name":"ext"},"subsets":[{"addresses":[{"ip":"192.0.2.10"}],"ports":[{"port":5432}]}]}'
expect 201 "create Endpoints by hand for a Service without a selector"
podat e1 10.88.0.41 True '{"app":"ext"}'
sleep 1
is "$(eps ext)" "192.0.2.10||/5432/TCP" "the controller leaves them alone"

# Endpoints go with their Service, and come back when deleted by hand
req DELETE $NS/endpoints/test-service
wait_eps test-service "10.88.0.21,10.88.0.22||/8888/TCP" "deleted Endpoints of a Service are made again"
req DELETE $NS/services/test-service
gone() {
	req GET "$NS/endpoints/$1"
	[[ $CODE == 404 ]]
}
ok "the Endpoints go with their Service" wait_for 10 gone test-service

# a restart keeps them and removes leftovers
req POST $NS/endpoints '{"metadata":{"name":"leftover"},"subsets":[{"addresses":[{"ip":"192.0.2.20"}],"ports":[{"port":1}]}]}'
req GET $NS/endpoints/web
rv=$(jqb .metadata.resourceVersion)
srv_kill9
srv_launch --disable-scheduler
ok "after a restart, Endpoints without a Service are removed" wait_for 10 gone leftover
req GET $NS/endpoints/web
is "$(jqb .metadata.resourceVersion)" "$rv" "... and the others are not written again"
is "$(eps ext)" "192.0.2.10||/5432/TCP" "... nor those of a Service without a selector"
done_testing
