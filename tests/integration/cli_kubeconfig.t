#!/bin/bash
# How skiff picks its server and credentials, as kubectl's clientcmd does:
# --kubeconfig, $KUBECONFIG (merged, first wins), contexts and their
# namespace, flags over the file, relative paths, tokenFile, *-data.
. "$(dirname "$0")/cli_lib.sh"

need_skiff
# a port where nobody listens: the refusal message names the URL chosen
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)
K=$TEST_TMP/kc
mkdir -p "$K"
cat >"$K/a.yaml" <<Y
apiVersion: v1
kind: Config
current-context: second
contexts:
- name: first
  context: {cluster: one, user: u}
clusters:
- name: one
  cluster: {server: "https://127.0.0.1:$DEAD/one"}
Y
cat >"$K/b.yaml" <<Y
apiVersion: v1
kind: Config
current-context: first
contexts:
- name: second
  context: {cluster: two, user: u, namespace: team}
clusters:
- name: two
  cluster: {server: "https://127.0.0.1:$DEAD/two"}
- name: one
  cluster: {server: "https://127.0.0.1:$DEAD/shadowed"}
users:
- name: u
  user: {token: t}
Y

refused() { run env KUBECONFIG="$1" "$SKIFF" "${@:2}" get pods; [[ $err =~ server\ ([^ ]+)\ was\ refused ]] && echo "${BASH_REMATCH[1]}"; }
is "$(refused "$K/a.yaml:$K/b.yaml")" "https://127.0.0.1:$DEAD/two" "KUBECONFIG merges: first current-context, context from the second file"
is "$(refused "$K/a.yaml:$K/b.yaml" --context first)" "https://127.0.0.1:$DEAD/one" "--context; the first file's cluster wins"
is "$(refused "$K/b.yaml" --server "https://127.0.0.1:$DEAD/flag")" "https://127.0.0.1:$DEAD/flag" "--server overrides the file"
is "$(refused "/nonexistent:$K/b.yaml" --context second)" "https://127.0.0.1:$DEAD/two" "a missing KUBECONFIG file is skipped"
run env KUBECONFIG="$K/b.yaml" "$SKIFF" --context nope get pods
is "$err" 'skiff: error: context "nope" does not exist' "unknown --context"
run "$SKIFF" --kubeconfig "$K/missing.yaml" get pods
like "$err" "^skiff: error: error loading config file \"$K/missing.yaml\"" "missing --kubeconfig is an error"

# against a real server: namespace, token file, CA file, insecure
start_server
SERVER=$(sed -n 's/^ *server: *//p' "$KCFG" | tr -d '"' | head -1)
TOKEN=$(sed -n 's/^ *token: *//p' "$KCFG" | tr -d '"' | head -1)
sed -n 's/^ *certificate-authority-data: *//p' "$KCFG" | tr -d '"' | base64 -d >"$K/ca.crt"
printf '%s\n' "$TOKEN" >"$K/token"
cat >"$K/files.yaml" <<Y
apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: s, user: u, namespace: team}
clusters:
- name: s
  cluster: {server: "$SERVER", certificate-authority: ca.crt}
users:
- name: u
  user: {tokenFile: token}
Y
run "$SKIFF" --kubeconfig "$K/files.yaml" get pods
is "$rc" 0 "relative certificate-authority and tokenFile"
is "$err" "No resources found in team namespace." "the context's namespace"
run "$SKIFF" --kubeconfig "$K/files.yaml" -n kube-system get pods
is "$err" "No resources found in kube-system namespace." "-n overrides the context"
cat >"$K/insecure.yaml" <<Y
apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: s, user: u}
clusters:
- name: s
  cluster: {server: "$SERVER", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: "$TOKEN"}
Y
run "$SKIFF" --kubeconfig "$K/insecure.yaml" get ns default -o name
is "$out" "namespace/default" "insecure-skip-tls-verify"
run "$SKIFF" --kubeconfig "$K/files.yaml" --certificate-authority /etc/ssl/certs/ca-certificates.crt get ns
is "$rc" 1 "verification against the wrong CA fails"
like "$err" "^skiff: Unable to connect to the server: " "as one line"
run "$SKIFF" --kubeconfig "$K/insecure.yaml" --token wrong get ns
is "$err" "skiff: error: You must be logged in to the server (Unauthorized)" "--token overrides the file"
run env -u KUBECONFIG HOME="$K" "$SKIFF" --server "$SERVER" --insecure-skip-tls-verify --token "$TOKEN" get ns kube-public -o name
is "$out" "namespace/kube-public" "flags alone, no file"

done_testing
