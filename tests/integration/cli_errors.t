#!/bin/bash
# The skiff client's failures: one readable line on stderr and exit 1, as
# kubectl words them (prefixed "skiff: ").
. "$(dirname "$0")/cli_lib.sh"

start_server
M=$TEST_TMP/manifests
mkdir -p "$M"

run_fails "get a missing pod" skiff get pod nope
is "$err" 'skiff: Error from server (NotFound): pods "nope" not found' "NotFound"
run_fails "get a missing deployment" skiff get deploy nope
is "$err" 'skiff: Error from server (NotFound): deployments.apps "nope" not found' "NotFound with the group"
run_fails "unknown resource type" skiff get foo
is "$err" 'skiff: error: the server doesn'"'"'t have a resource type "foo"' "unknown type"

printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n' >"$M/bad.yaml"
run_fails "bad YAML" skiff create -f "$M/bad.yaml"
like "$err" "^skiff: error: $M/bad.yaml:[0-9]+:[0-9]+: " "file:line:column"
is "$(wc -l <<<"$err")" 1 "one line"

cat >"$M/noimage.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: x
spec:
  containers:
  - name: c
Y
run_fails "invalid object" skiff create -f "$M/noimage.yaml"
is "$err" 'skiff: The Pod "x" is invalid: spec.containers[0].image: Required value' "422 with the field path"
run_fails "apply an invalid object" skiff apply -f "$M/noimage.yaml"
is "$err" 'skiff: The Pod "x" is invalid: spec.containers[0].image: Required value' "422 from apply too"

cat >"$M/unknown.yaml" <<'Y'
apiVersion: v1
kind: Gizmo
metadata:
  name: g
Y
run_fails "unknown kind in a file" skiff create -f "$M/unknown.yaml"
is "$err" "skiff: error: resource mapping not found for name: \"g\" namespace: \"\" from \"$M/unknown.yaml\": no matches for kind \"Gizmo\" in version \"v1\"" \
	"resource mapping not found"
run_fails "missing file" skiff create -f "$M/none.yaml"
is "$err" "skiff: error: the path \"$M/none.yaml\" does not exist" "missing path"
run_fails "no kind" bash -c "printf 'metadata: {name: x}\n' | '$SKIFF' --kubeconfig '$KCFG' create -f -"
like "$err" "^skiff: error: unable to decode \"STDIN\": Object 'Kind' is missing" "missing kind"
run_fails "unknown flag" skiff get pods --bogus
is "$err" "skiff: error: unknown flag: --bogus" "unknown flag"
run_fails "bad output format" skiff get pods -o xml
like "$err" '^skiff: error: unable to match a printer suitable for the output format "xml"' "bad -o"
run_fails "label overwrite" skiff label ns default kubernetes.io/metadata.name=x
like "$err" "already has a value \\(default\\), and --overwrite is false" "overwrite check"
run_fails "invalid label" skiff label ns default 'bad key=1'
like "$err" '^skiff: ' "invalid label is one skiff line"

# wrong credentials
sed 's/token: .*/token: wrong/' "$KCFG" >"$TEST_TMP/wrong.kubeconfig"
run "$SKIFF" --kubeconfig "$TEST_TMP/wrong.kubeconfig" get pods
is "$rc" 1 "wrong token fails"
is "$err" "skiff: error: You must be logged in to the server (Unauthorized)" "401 as kubectl says it"

# nobody listening
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)
run "$SKIFF" --kubeconfig "$KCFG" --server "https://127.0.0.1:$PORT" get pods
is "$rc" 1 "refused connection fails"
is "$err" "skiff: The connection to the server https://127.0.0.1:$PORT was refused - did you specify the right host or port?" \
	"refused names the server"

# a server whose certificate does not match the CA
sed 's/certificate-authority-data: .*/certificate-authority-data: '"$(base64 -w0 </dev/null)"'/' "$KCFG" >"$TEST_TMP/noca.kubeconfig"
run "$SKIFF" --kubeconfig "$TEST_TMP/noca.kubeconfig" --certificate-authority /etc/ssl/certs/ca-certificates.crt get pods
is "$rc" 1 "untrusted certificate fails"
like "$err" '^skiff: Unable to connect to the server: ' "TLS failure is one line"

done_testing
