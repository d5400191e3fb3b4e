#!/bin/bash
# kubectl 1.33 (the version /version makes the gcloud dispatcher pick)
# drives the server through issue 4's commands, plus its protobuf-posting
# generator commands.
. "$(dirname "$0")/kubectl_lib.sh"

KUBECTL133=${KUBECTL133:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
kubectl_scenario "$KUBECTL133"

# kubectl 1.32+ posts what its generators build as protobuf
kc_ok "create configmap (a protobuf body)" "^configmap/gen-cm created$" \
	create configmap gen-cm --from-literal=a=b --from-literal=c=d
kc_ok "... stored with its data" "^b d$" get cm gen-cm -o 'jsonpath={.data.a} {.data.c}'
kc_ok "create secret generic (protobuf, bytes)" "^secret/gen-s created$" \
	create secret generic gen-s --from-literal=password=s3cr3t
kc_ok "... base64 in the API" "^$(printf s3cr3t | base64)$" get secret gen-s -o 'jsonpath={.data.password}'
kc_ok "create deployment (protobuf)" "^deployment.apps/gen-d created$" create deployment gen-d --image=nginx:1.25 --replicas=2
kc_ok "... with its template" "^nginx:1.25 2 gen-d$" get deploy gen-d \
	-o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.replicas} {.spec.selector.matchLabels.app}'
kc_ok "create service clusterip (protobuf)" "^service/gen-svc created$" create service clusterip gen-svc --tcp=80:8080
kc_ok "... with its ports" "^80 8080$" get svc gen-svc -o 'jsonpath={.spec.ports[0].port} {.spec.ports[0].targetPort}'
kc_ok "--dry-run=server" "^configmap/dry created \\(server dry run\\)$" create configmap dry --dry-run=server
kc get cm dry
((rc == 1)) && pass "... stored nothing" || fail "dry run stored nothing" "$out"

done_testing
