/* Unit tests for api/table.c: Table columns and cells as the apiserver
 * prints them, the pod STATUS column, and kubectl's human durations. */
#include <stdlib.h>

#include "../../api/api.h"
#include "tap.h"

/* 2026-11-25T17:00:00Z */
#define NOW 1795626000
#define CREATED "2026-11-25T16:59:55Z"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j) {
		printf("# bad test JSON: %s: %s\n", s, e.text);
		abort();
	}
	return j;
}

static char *cells_of(const char *kind, const char *obj)
{
	json_t *o = J(obj);
	json_t *row = api_table_row(api_kind_by_kind(NULL, kind), o, NOW, API_TABLE_METADATA);
	char *s = json_dumps(json_object_get(row, "cells"), JSON_COMPACT);

	json_decref(row);
	json_decref(o);
	return s;
}

static void cells(const char *kind, const char *obj, const char *want, const char *name)
{
	_cleanup_free_ char *got = cells_of(kind, obj);

	is_str(got, want, "%s", name);
}

static void status(const char *pod, const char *want, const char *name)
{
	json_t *p = J(pod);
	char buf[64];

	is_str(api_pod_status_text(p, buf, sizeof(buf)), want, "pod status: %s", name);
	json_decref(p);
}

static void dur(int64_t s, const char *want)
{
	char buf[32];

	is_str(api_human_duration(s, buf, sizeof(buf)), want, "duration %lld", (long long)s);
}

#define META(name)                       \
	"\"metadata\":{\"name\":\"" name \
	"\",\"namespace\":\"default\",\"creationTimestamp\":\"" CREATED "\"}"

int main(void)
{
	dur(-5, "<invalid>");
	dur(-1, "0s");
	dur(5, "5s");
	dur(119, "119s");
	dur(182, "3m2s");
	dur(180, "3m");
	dur(600, "10m");
	dur(3 * 3600 - 1, "179m");
	dur(3 * 3600 + 120, "3h2m");
	dur(8 * 3600, "8h");
	dur(47 * 3600, "47h");
	dur(2 * 86400, "2d");
	dur(2 * 86400 + 3600 * 5, "2d5h");
	dur(30 * 86400, "30d");
	dur(3 * 365 * 86400 + 45 * 86400, "3y45d");
	dur(10 * 365 * 86400, "10y");

	/* The columns of shapes/table_pods.json. */
	{
		json_t *cols = api_table_columns(api_kind_by_kind("", "Pod"));
		json_t *c0 = json_array_get(cols, 0), *c5 = json_array_get(cols, 5);
		is_int(json_array_size(cols), 9, "pods: 9 columns");
		is_str(api_get_str(c0, "name"), "Name", "pods: Name first");
		is_str(api_get_str(c0, "format"), "name", "pods: Name has format name");
		is_int(api_get_int(c0, "priority", -1), 0, "pods: Name priority 0");
		is_str(api_get_str(c5, "name"), "IP", "pods: IP");
		is_int(api_get_int(c5, "priority", -1), 1, "pods: IP is a wide column");
		is_str(api_get_str(json_array_get(cols, 8), "name"), "Readiness Gates",
		       "pods: Readiness Gates last");
		json_decref(cols);
	}

	cells("Pod",
	      "{" META("test-pod") ",\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":"
				   "\"c\"}]},"
				   "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.11\","
				   "\"podIPs\":[{\"ip\":\"10.244.0.11\"}],"
				   "\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,"
				   "\"restartCount\":0,\"state\":{\"running\":{}}}]}}",
	      "[\"test-pod\",\"1/"
	      "1\",\"Running\",\"0\",\"5s\",\"10.244.0.11\",\"node-1\",\"<none>\",\"<none>\"]",
	      "pod row (shapes/table_pods.json)");
	cells("Pod",
	      "{" META("p") ",\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
			    "\"status\":{\"phase\":\"Running\","
			    "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,"
			    "\"restartCount\":2,\"state\":{\"running\":{}},"
			    "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"2026-"
			    "11-25T16:55:00Z\"}}},"
			    "{\"name\":\"b\",\"ready\":false,\"restartCount\":1,\"state\":{"
			    "\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
	      "[\"p\",\"1/2\",\"CrashLoopBackOff\",\"3 (5m "
	      "ago)\",\"5s\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]",
	      "pod row with restarts and a crash loop");

	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\"}}",
	       "Pending", "no status yet");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\","
	       "\"containerStatuses\":"
	       "[{\"name\":\"c\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
	       "ContainerCreating", "container creating");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Succeeded\","
	       "\"containerStatuses\":"
	       "[{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
	       "\"Completed\"}}}]}}",
	       "Completed", "completed");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Failed\","
	       "\"containerStatuses\":"
	       "[{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
	       "ExitCode:3", "terminated without reason");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Failed\","
	       "\"containerStatuses\":"
	       "[{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
	       "Signal:9", "killed by a signal");
	status("{\"metadata\":{\"deletionTimestamp\":\"2026-11-25T17:00:00Z\"},\"spec\":{"
	       "\"containers\":[{\"name\":\"c\"}]},"
	       "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\",\"ready\":"
	       "true,\"state\":{\"running\":{}}}]}}",
	       "Terminating", "terminating");
	status("{\"spec\":{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"c\"}]}"
	       ",\"status\":{\"phase\":\"Pending\","
	       "\"initContainerStatuses\":[{\"name\":\"i\",\"state\":{\"running\":{}}}]}}",
	       "Init:0/1", "init container running");
	status("{\"spec\":{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"c\"}]}"
	       ",\"status\":{\"phase\":\"Pending\","
	       "\"initContainerStatuses\":[{\"name\":\"i\",\"state\":{\"terminated\":{\"exitCode\":"
	       "1,\"reason\":\"Error\"}}}]}}",
	       "Init:Error", "init container failed");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\","
	       "\"reason\":\"Evicted\"}}",
	       "Evicted", "status.reason wins");
	status("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\","
	       "\"conditions\":[{\"type\":"
	       "\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}",
	       "SchedulingGated", "scheduling gated");

	cells("Service",
	      "{" META(
		      "test-service") ",\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.14."
				      "68\",\"clusterIPs\":[\"10.96.14.68\"],"
				      "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":"
				      "8888}],\"selector\":{\"app\":\"test-app\"}}}",
	      "[\"test-service\",\"ClusterIP\",\"10.96.14.68\",\"<none>\",\"80/"
	      "TCP\",\"5s\",\"app=test-app\"]",
	      "service row");
	cells("Service",
	      "{" META("np") ",\"spec\":{\"type\":\"NodePort\",\"clusterIPs\":[\"10.96.0.9\"],"
			     "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"nodePort\":30080},{"
			     "\"port\":53,\"protocol\":\"UDP\"}]}}",
	      "[\"np\",\"NodePort\",\"10.96.0.9\",\"<none>\",\"80:30080/TCP,53/"
	      "UDP\",\"5s\",\"<none>\"]",
	      "NodePort service row");
	cells("Service",
	      "{" META("lb") ",\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.0.9\"],"
			     "\"ports\":[]}}",
	      "[\"lb\",\"LoadBalancer\",\"10.96.0.9\",\"<pending>\",\"<none>\",\"5s\",\"<none>\"]",
	      "pending load balancer");
	cells("Deployment",
	      "{" META("test-deploy") ",\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{"
				      "\"app\":\"test-app\"}},"
				      "\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
				      "\"image\":\"web:latest\"},{\"name\":\"s\",\"image\":"
				      "\"busybox\"}]}}},"
				      "\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,"
				      "\"availableReplicas\":2}}",
	      "[\"test-deploy\",\"2/"
	      "3\",3,2,\"5s\",\"web,s\",\"web:latest,busybox\",\"app=test-app\"]",
	      "deployment row");
	cells("ReplicaSet",
	      "{" META("test-deploy-7fc46b6679") ",\"spec\":{\"replicas\":3,\"selector\":{"
						 "\"matchLabels\":{\"app\":\"test-app\","
						 "\"pod-template-hash\":\"7fc46b6679\"}},"
						 "\"template\":{\"spec\":{\"containers\":[{"
						 "\"name\":\"web\",\"image\":\"web\"}]}}},"
						 "\"status\":{\"replicas\":3,\"readyReplicas\":1}}",
	      "[\"test-deploy-7fc46b6679\",3,3,1,\"5s\",\"web\",\"web\",\"app=test-app,pod-"
	      "template-hash=7fc46b6679\"]",
	      "replicaset row");
	cells("Namespace",
	      "{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":\"2026-11-23T17:00:00Z\"},"
	      "\"status\":{\"phase\":\"Active\"}}",
	      "[\"default\",\"Active\",\"2d\"]", "namespace row");
	cells("Node",
	      "{\"metadata\":{\"name\":\"node-1\",\"creationTimestamp\":\"" CREATED
	      "\",\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\"}},"
	      "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\","
	      "\"status\":\"True\"}],"
	      "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}],\"nodeInfo\":{"
	      "\"kubeletVersion\":\"v1.33.0+skiff\","
	      "\"osImage\":\"Debian GNU/Linux 12 (bookworm)\",\"kernelVersion\":\"6.1.0\"}}}",
	      "[\"node-1\",\"Ready,SchedulingDisabled\",\"control-plane\",\"5s\",\"v1.33.0+skiff\","
	      "\"10.0.0.2\",\"<none>\","
	      "\"Debian GNU/Linux 12 (bookworm)\",\"6.1.0\",\"<unknown>\"]",
	      "node row");
	cells("Endpoints",
	      "{" META("s") ",\"subsets\":[{\"addresses\":[{\"ip\":\"10.244.0.5\"},{\"ip\":\"10."
			    "244.0.6\"},{\"ip\":\"10.244.0.7\"},"
			    "{\"ip\":\"10.244.0.8\"}],\"ports\":[{\"port\":8888}]}]}",
	      "[\"s\",\"10.244.0.5:8888,10.244.0.6:8888,10.244.0.7:8888 + 1 more...\",\"5s\"]",
	      "endpoints row");
	cells("Endpoints", "{" META("e") "}", "[\"e\",\"<none>\",\"5s\"]",
	      "endpoints without subsets");
	cells("ConfigMap", "{" META("cm") ",\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
	      "[\"cm\",2,\"5s\"]", "configmap row");
	cells("Secret", "{" META("s") ",\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}",
	      "[\"s\",\"Opaque\",1,\"5s\"]", "secret row");
	cells("Event",
	      "{" META("p.1") ",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"reason\":"
			      "\"Scheduled\",\"type\":\"Normal\","
			      "\"message\":\" Successfully assigned default/p to "
			      "node-1\\n\",\"source\":{\"component\":\"default-scheduler\"},"
			      "\"firstTimestamp\":\"2026-11-25T16:59:00Z\",\"lastTimestamp\":"
			      "\"2026-11-25T16:59:50Z\",\"count\":2}",
	      "[\"10s\",\"Normal\",\"Scheduled\",\"pod/"
	      "p\",\"\",\"default-scheduler\",\"Successfully assigned default/p to node-1\","
	      "\"60s\",2,\"p.1\"]",
	      "event row");
	cells("PersistentVolume",
	      "{\"metadata\":{\"name\":\"pv1\",\"creationTimestamp\":\"" CREATED
	      "\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
	      "\"accessModes\":[\"ReadWriteMany\",\"ReadWriteOnce\"],"
	      "\"persistentVolumeReclaimPolicy\":\"Retain\",\"claimRef\":"
	      "{\"namespace\":\"default\",\"name\":\"c\"},\"storageClassName\":\"local\","
	      "\"volumeMode\":\"Filesystem\"},"
	      "\"status\":{\"phase\":\"Bound\"}}",
	      "[\"pv1\",\"1Gi\",\"RWO,RWX\",\"Retain\",\"Bound\",\"default/"
	      "c\",\"local\",\"<unset>\",\"\",\"5s\",\"Filesystem\"]",
	      "persistentvolume row");
	cells("PersistentVolumeClaim",
	      "{" META("c") ",\"spec\":{\"volumeName\":\"pv1\",\"storageClassName\":\"local\","
			    "\"volumeMode\":\"Filesystem\"},"
			    "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"},"
			    "\"accessModes\":[\"ReadWriteOnce\"]}}",
	      "[\"c\",\"Bound\",\"pv1\",\"1Gi\",\"RWO\",\"local\",\"<unset>\",\"5s\","
	      "\"Filesystem\"]",
	      "persistentvolumeclaim row");
	cells("Lease", "{" META("node-1") ",\"spec\":{\"holderIdentity\":\"node-1\"}}",
	      "[\"node-1\",\"node-1\",\"5s\"]", "lease row");

	/* A whole Table. */
	{
		json_t *items = J("[{" META("a") "},{" META("b") "}]");
		json_t *t = api_table(api_kind_by_kind("", "ConfigMap"), items, "124", NOW,
				      API_TABLE_METADATA);
		json_t *row =
			json_array_get(api_get(t, "rows") ? json_object_get(t, "rows") : NULL, 1);
		is_str(api_get_str(t, "kind"), "Table", "table kind");
		is_str(api_get_str(t, "apiVersion"), "meta.k8s.io/v1", "table apiVersion");
		is_str(api_get_str(t, "metadata.resourceVersion"), "124", "table resourceVersion");
		is_int(json_array_size(json_object_get(t, "rows")), 2, "two rows");
		is_str(api_get_str(row, "object.kind"), "PartialObjectMetadata",
		       "row object is PartialObjectMetadata");
		is_str(api_get_str(row, "object.metadata.name"), "b", "row object metadata");
		json_decref(t);
		t = api_table(api_kind_by_kind("", "ConfigMap"), items, NULL, NOW, API_TABLE_NONE);
		ok(!json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object"),
		   "includeObject=None: no object");
		json_decref(t);
		json_decref(items);
	}
	{
		json_t *p = J("{\"metadata\":{\"name\":\"x\"}}");
		char buf[32];
		is_str(api_age(p, NOW, buf, sizeof(buf)), "<unknown>",
		       "age without creationTimestamp");
		json_decref(p);
	}
	return done_testing();
}
