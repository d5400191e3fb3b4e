#!/bin/bash
# make bench: every benchmark in turn; results in build/bench/*.txt.
# RUNS=N (default 50) runs per command; PODS=N (default 50) for memory.
cd "$(dirname "$0")/.." || exit 1
status=0
for b in runtime-start pod-start memory cli-commands api/run.sh net-pod-setup net-svc-scale net-throughput cluster-latency cluster-scale sched-bind; do
	echo "=== bench/$b"
	bench/$b || { status=1; echo "=== bench/$b FAILED"; }
done
exit $status
