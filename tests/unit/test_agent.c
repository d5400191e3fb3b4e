/* Unit tests for the agent's pure parts: the pod status as the kubelet
 * writes it, probe specs, Services to the dataplane and to environment
 * variables, CRI log records, WebSocket frames, and the downward API and
 * Service variables in the pod spec translation. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/agent_internal.h"
#include "tap.h"

static json_t *yaml(const char *text)
{
	json_t *docs = NULL;
	sk_err err = {0};

	if (api_yaml_load(text, strlen(text), "test.yaml", &docs, &err) < 0) {
		printf("# yaml: %s\n", err.msg);
		return NULL;
	}
	json_t *doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return doc;
}

static const char *cond(json_t *st, const char *type, const char *field)
{
	json_t *c;
	size_t i;

	json_array_foreach (json_object_get(st, "conditions"), i, c)
		if (sk_streq(api_get_str(c, "type"), type))
			return api_get_str(c, field);
	return NULL;
}

static json_t *ctr_status(json_t *st, size_t i)
{
	return json_array_get(json_object_get(st, "containerStatuses"), i);
}

static const char pod_yaml[] = "metadata: {name: web, namespace: default, uid: u-1}\n"
			       "spec:\n"
			       "  nodeName: n1\n"
			       "  containers:\n"
			       "  - {name: a, image: web:latest}\n"
			       "  - {name: b, image: busybox:latest}\n"
			       "status:\n"
			       "  phase: Pending\n"
			       "  qosClass: BestEffort\n"
			       "  conditions:\n"
			       "  - {type: PodScheduled, status: 'True', lastTransitionTime: "
			       "'2026-01-01T00:00:00Z'}\n"
			       "  - {type: Ready, status: 'False', lastTransitionTime: "
			       "'2026-01-01T00:00:01Z'}\n"
			       "  - {type: ContainersReady, status: 'True', lastTransitionTime: "
			       "'2026-01-01T00:00:02Z'}\n";

static struct rt_container_status running(const char *name, int64_t started)
{
	return (struct rt_container_status){.name = (char *)name,
					    .image = "img",
					    .state = RT_RUNNING,
					    .started_at = started,
					    .pid = 42};
}

static void test_status_pending(void)
{
	json_t *pod = yaml(pod_yaml);
	struct agent_status_input in = {.pod = pod, .host_ip = "10.0.0.1", .now = 1000};

	json_t *st = agent_pod_status(&in);
	is_str(api_get_str(st, "phase"), "Pending", "no sandbox: Pending");
	is_str(api_get_str(ctr_status(st, 0), "state.waiting.reason"), "ContainerCreating",
	       "no sandbox: containers wait in ContainerCreating");
	is_int(json_array_size(json_object_get(st, "containerStatuses")), 2,
	       "a status for each container");
	is_str(cond(st, "Ready", "status"), "False", "not Ready");
	is_str(cond(st, "Ready", "reason"), "ContainersNotReady", "Ready reason");
	is_str(cond(st, "Ready", "message"), "containers with unready status: [a b]",
	       "Ready message names the containers as Go prints a list");
	is_str(cond(st, "PodScheduled", "lastTransitionTime"), "2026-01-01T00:00:00Z",
	       "PodScheduled is kept from the scheduler");
	is_str(cond(st, "Ready", "lastTransitionTime"), "2026-01-01T00:00:01Z",
	       "an unchanged condition keeps its transition time");
	is_str(api_get_str(st, "qosClass"), "BestEffort", "qosClass kept");
	is_str(api_get_str(st, "hostIP"), "10.0.0.1", "hostIP");
	ok(!api_get(st, "podIP"), "no podIP yet");
	json_decref(st);

	in.waiting_reason = "ErrImagePull";
	in.waiting_message = "image \"x\" not found";
	st = agent_pod_status(&in);
	is_str(api_get_str(ctr_status(st, 1), "state.waiting.reason"), "ErrImagePull",
	       "a start failure: the reason");
	is_str(api_get_str(ctr_status(st, 1), "state.waiting.message"), "image \"x\" not found",
	       "a start failure: the message");
	json_decref(st);
	json_decref(pod);
}

static void test_status_running(void)
{
	json_t *pod = yaml(pod_yaml);
	struct rt_container_status cs[2] = {running("a", 1700000000LL * 1000000000LL),
					    running("b", 1700000001LL * 1000000000LL)};
	struct rt_pod_status rt = {.phase = RT_PHASE_RUNNING, .containers = cs, .n_containers = 2};
	struct agent_ctr_probe_view views[2] = {{"a", true, true}, {"b", false, true}};
	struct agent_status_input in = {.pod = pod,
					.rt = &rt,
					.probes = views,
					.n_probes = 2,
					.pod_ip = "10.88.0.5",
					.host_ip = "10.0.0.1",
					.start_time = 1700000000,
					.now = 1700000100,
					.sandbox_ready = true};

	json_t *st = agent_pod_status(&in);
	is_str(api_get_str(st, "phase"), "Running", "Running");
	is_str(api_get_str(st, "podIP"), "10.88.0.5", "podIP");
	is_str(api_get_str(json_array_get(json_object_get(st, "podIPs"), 0), "ip"), "10.88.0.5",
	       "podIPs");
	is_str(api_get_str(st, "startTime"), "2023-11-14T22:13:20Z", "startTime");
	is_str(api_get_str(ctr_status(st, 0), "state.running.startedAt"), "2023-11-14T22:13:20Z",
	       "running since");
	ok(json_is_true(api_get(ctr_status(st, 0), "ready")), "a is ready");
	ok(json_is_false(api_get(ctr_status(st, 1), "ready")), "b is not (readiness)");
	ok(json_is_true(api_get(ctr_status(st, 1), "started")), "b started");
	is_str(api_get_str(ctr_status(st, 0), "containerID"), "skiff://u-1/a/0", "containerID");
	is_str(cond(st, "ContainersReady", "status"), "False", "ContainersReady False");
	is_str(cond(st, "ContainersReady", "message"), "containers with unready status: [b]",
	       "names the unready container");
	is_str(cond(st, "ContainersReady", "lastTransitionTime"), "2023-11-14T22:15:00Z",
	       "a changed condition transitions now");
	is_str(cond(st, "Initialized", "status"), "True", "Initialized");
	is_str(cond(st, "PodReadyToStartContainers", "status"), "True", "sandbox ready");
	json_decref(st);

	views[1].ready = true;
	st = agent_pod_status(&in);
	is_str(cond(st, "Ready", "status"), "True", "all ready: Ready");
	ok(!cond(st, "Ready", "reason"), "Ready True has no reason");
	json_decref(st);

	views[1].started = false;
	st = agent_pod_status(&in);
	ok(json_is_false(api_get(ctr_status(st, 1), "started")),
	   "startup probe pending: not started");
	ok(json_is_false(api_get(ctr_status(st, 1), "ready")), "not started: not ready");
	json_decref(st);

	in.terminating = true;
	views[1].started = true;
	st = agent_pod_status(&in);
	is_str(cond(st, "Ready", "status"), "False", "terminating: not Ready");
	json_decref(st);
	json_decref(pod);
}

static void test_status_crashloop(void)
{
	json_t *pod = yaml(pod_yaml);
	struct rt_container_status cs[2] = {running("a", 1700000000LL * 1000000000LL), {0}};
	cs[1] = (struct rt_container_status){
		.name = "b",
		.image = "img",
		.state = RT_WAITING,
		.reason = "CrashLoopBackOff",
		.message = "back-off 20s restarting failed container=b",
		.restart_count = 2,
		.has_last_state = true,
		.last_state = {.exit_code = 3,
			       .reason = "Error",
			       .started_at = 1700000010LL * 1000000000LL,
			       .finished_at = 1700000011LL * 1000000000LL},
	};
	struct rt_pod_status rt = {.phase = RT_PHASE_RUNNING, .containers = cs, .n_containers = 2};
	struct agent_status_input in = {.pod = pod, .rt = &rt, .now = 1700000100};

	json_t *st = agent_pod_status(&in);
	json_t *b = ctr_status(st, 1);
	is_str(api_get_str(b, "state.waiting.reason"), "CrashLoopBackOff", "waiting reason");
	like(api_get_str(b, "state.waiting.message"), "back-off 20s", "waiting message");
	is_int(api_get_int(b, "restartCount", -1), 2, "restartCount");
	is_int(api_get_int(b, "lastState.terminated.exitCode", -1), 3, "lastState exit code");
	is_str(api_get_str(b, "lastState.terminated.reason"), "Error", "lastState reason");
	is_str(api_get_str(b, "lastState.terminated.finishedAt"), "2023-11-14T22:13:31Z",
	       "lastState finishedAt");
	is_str(api_get_str(b, "lastState.terminated.containerID"), "skiff://u-1/b/2",
	       "lastState names the run that ended");
	is_str(api_get_str(st, "phase"), "Running", "the pod still Running");
	json_decref(st);
	json_decref(pod);
}

static void test_status_completed(void)
{
	json_t *pod = yaml(pod_yaml);
	struct rt_container_status cs[2];
	for (int i = 0; i < 2; i++)
		cs[i] = (struct rt_container_status){.name = i ? "b" : "a",
						     .image = "img",
						     .state = RT_TERMINATED,
						     .exit_code = i ? 137 : 0,
						     .signal = i ? 9 : 0,
						     .reason = i ? "OOMKilled" : "Completed",
						     .started_at = 1,
						     .finished_at = 2000000000};
	struct rt_pod_status rt = {.phase = RT_PHASE_FAILED, .containers = cs, .n_containers = 2};
	struct agent_status_input in = {.pod = pod, .rt = &rt, .now = 5};

	json_t *st = agent_pod_status(&in);
	is_str(api_get_str(st, "phase"), "Failed", "Failed");
	is_str(api_get_str(ctr_status(st, 1), "state.terminated.reason"), "OOMKilled",
	       "OOMKilled reason");
	is_int(api_get_int(ctr_status(st, 1), "state.terminated.exitCode", 0), 137,
	       "exit code 137");
	is_int(api_get_int(ctr_status(st, 1), "state.terminated.signal", 0), 9, "signal 9");
	ok(!api_get(ctr_status(st, 0), "state.terminated.signal"), "no signal when exited");
	is_str(cond(st, "Ready", "reason"), "PodCompleted", "Ready False: PodCompleted");
	json_decref(st);
	json_decref(pod);
}

static void test_status_init(void)
{
	json_t *pod = yaml("metadata: {name: p, uid: u}\n"
			   "spec:\n"
			   "  initContainers: [{name: setup, image: x}]\n"
			   "  containers: [{name: app, image: x}]\n");
	struct rt_container_status ic = running("setup", 1000000000);
	struct rt_container_status mc = {
		.name = "app", .state = RT_WAITING, .reason = "PodInitializing"};
	struct rt_pod_status rt = {.phase = RT_PHASE_PENDING,
				   .init_containers = &ic,
				   .n_init_containers = 1,
				   .containers = &mc,
				   .n_containers = 1};
	struct agent_status_input in = {.pod = pod, .rt = &rt, .now = 5};

	json_t *st = agent_pod_status(&in);
	is_str(cond(st, "Initialized", "status"), "False", "init running: not Initialized");
	is_str(cond(st, "Initialized", "message"), "containers with incomplete status: [setup]",
	       "names the init container");
	is_int(json_array_size(json_object_get(st, "initContainerStatuses")), 1,
	       "initContainerStatuses");
	is_str(api_get_str(ctr_status(st, 0), "state.waiting.reason"), "PodInitializing",
	       "the app waits for the init containers");
	json_decref(st);
	json_decref(pod);
}

/* ---- probes ---- */

static void test_probes(void)
{
	json_t *cj = yaml("name: web\nports: [{name: http, containerPort: 8888}]\n");
	json_t *p = yaml("httpGet: {path: healthz, port: http}\n");
	struct agent_probe_spec s;
	sk_err err = {0};

	ok(agent_probe_parse(p, cj, "spec.containers[0].livenessProbe", &s, &err) == 0,
	   "httpGet parses (%s)", err.msg);
	is_int(s.kind, PROBE_HTTP, "httpGet");
	is_int(s.port, 8888, "named port resolved");
	is_str(s.path, "/healthz", "path gets its slash");
	is_int(s.period_s, 10, "periodSeconds 10");
	is_int(s.timeout_s, 1, "timeoutSeconds 1");
	is_int(s.failure_threshold, 3, "failureThreshold 3");
	is_int(s.success_threshold, 1, "successThreshold 1");
	is_int(s.initial_delay_s, 0, "initialDelaySeconds 0");
	agent_probe_spec_clear(&s);
	json_decref(p);

	p = yaml("exec: {command: [cat, /tmp/ok]}\nperiodSeconds: 2\nfailureThreshold: 1\n");
	ok(agent_probe_parse(p, cj, "x", &s, &err) == 0, "exec parses");
	is_int(s.kind, PROBE_EXEC, "exec");
	is_str(s.command[1], "/tmp/ok", "command");
	is_int(s.period_s, 2, "periodSeconds given");
	agent_probe_spec_clear(&s);
	json_decref(p);

	p = yaml("tcpSocket: {port: 9}\n");
	ok(agent_probe_parse(p, cj, "x", &s, &err) == 0 && s.kind == PROBE_TCP && s.port == 9,
	   "tcpSocket");
	agent_probe_spec_clear(&s);
	json_decref(p);

	p = yaml("httpGet: {port: nope}\n");
	ok(agent_probe_parse(p, cj, "spec.containers[0].readinessProbe", &s, &err) < 0,
	   "unknown named port refused");
	like(err.msg, "spec.containers[0].readinessProbe.httpGet.port: no container port named",
	     "the error names the field");
	json_decref(p);

	p = yaml("grpc: {port: 1}\n");
	ok(agent_probe_parse(p, cj, "x", &s, &err) < 0, "grpc refused with a reason");
	json_decref(p);

	ok(agent_probe_parse(NULL, cj, "x", &s, &err) == 0 && s.kind == PROBE_NONE, "no probe");

	is_int(agent_http_status_code("HTTP/1.1 200 OK\r\n", 17), 200, "status line 200");
	is_int(agent_http_status_code("HTTP/1.0 503 Busy\r\n", 19), 503, "status line 503");
	is_int(agent_http_status_code("garbage", 7), -1, "garbage");
	is_int(agent_http_status_code("HTTP/1.1 2000 x", 15), -1, "four digits");
	json_decref(cj);
}

/* ---- Services ---- */

static const char svc_yaml[] = "metadata: {name: test-service, namespace: default}\n"
			       "spec:\n"
			       "  clusterIP: 10.96.0.10\n"
			       "  ports:\n"
			       "  - {name: web, protocol: TCP, port: 80, targetPort: http}\n"
			       "  - {name: dns, protocol: UDP, port: 53, targetPort: 5353}\n";

static void test_services(void)
{
	json_t *svc = yaml(svc_yaml);
	json_t *eps = yaml("metadata: {name: test-service, namespace: default}\n"
			   "subsets:\n"
			   "- addresses: [{ip: 10.88.0.2}, {ip: 10.88.0.3, hostname: h3}]\n"
			   "  notReadyAddresses: [{ip: 10.88.0.9}]\n"
			   "  ports: [{name: web, port: 8888, protocol: TCP}, "
			   "{name: dns, port: 5353, protocol: UDP}]\n");
	struct net_service ns;
	sk_err err = {0};

	is_int(agent_service_to_net(svc, eps, &ns, &err), 1, "a ClusterIP Service");
	is_str(ns.cluster_ip, "10.96.0.10", "ClusterIP");
	is_int(ns.n_ports, 2, "two ports");
	is_int(ns.ports[0].target_port, 0, "named targetPort: per endpoint");
	is_int(ns.ports[1].target_port, 5353, "numbered targetPort");
	is_int(ns.ports[1].protocol, IPPROTO_UDP, "UDP");
	is_int(ns.n_endpoints, 2, "ready endpoints only");
	is_int(ns.endpoints[0].ports[0], 8888, "the endpoint's port for the named target");
	is_str(ns.endpoints[1].hostname, "h3", "endpoint hostname");
	net_service_clear(&ns);

	is_int(agent_service_to_net(svc, NULL, &ns, &err), 1, "no Endpoints yet");
	is_int(ns.n_endpoints, 0, "no endpoints");
	net_service_clear(&ns);

	json_t *ext =
		yaml("metadata: {name: e}\nspec: {type: ExternalName, externalName: x.org}\n");
	is_int(agent_service_to_net(ext, NULL, &ns, &err), 0, "ExternalName is ignored");
	json_decref(ext);

	json_t *headless =
		yaml("metadata: {name: h}\nspec: {clusterIP: None, ports: [{port: 80}]}\n");
	is_int(agent_service_to_net(headless, NULL, &ns, &err), 1, "headless");
	is_str(ns.cluster_ip, "None", "headless ClusterIP None");
	is_int(ns.ports[0].target_port, 80, "targetPort defaults to port");
	net_service_clear(&ns);
	json_decref(headless);

	char **env = agent_service_env_add(NULL, svc);
	const char *want[] = {"TEST_SERVICE_SERVICE_HOST=10.96.0.10",
			      "TEST_SERVICE_SERVICE_PORT=80",
			      "TEST_SERVICE_SERVICE_PORT_WEB=80",
			      "TEST_SERVICE_SERVICE_PORT_DNS=53",
			      "TEST_SERVICE_PORT=tcp://10.96.0.10:80",
			      "TEST_SERVICE_PORT_80_TCP=tcp://10.96.0.10:80",
			      "TEST_SERVICE_PORT_80_TCP_PROTO=tcp",
			      "TEST_SERVICE_PORT_80_TCP_PORT=80",
			      "TEST_SERVICE_PORT_80_TCP_ADDR=10.96.0.10",
			      "TEST_SERVICE_PORT_53_UDP=udp://10.96.0.10:53",
			      "TEST_SERVICE_PORT_53_UDP_PROTO=udp",
			      "TEST_SERVICE_PORT_53_UDP_PORT=53",
			      "TEST_SERVICE_PORT_53_UDP_ADDR=10.96.0.10",
			      NULL};
	is_int(sk_strv_len(env), sk_strv_len((char **)want), "the kubelet's variables");
	for (size_t i = 0; want[i] && i < sk_strv_len(env); i++)
		is_str(env[i], want[i], "variable %zu", i);
	sk_strv_free(env);
	json_t *none = yaml("metadata: {name: h}\nspec: {clusterIP: None}\n");
	env = agent_service_env_add(NULL, none);
	ok(!env, "a headless Service gives no variables");
	json_decref(none);
	json_decref(svc);
	json_decref(eps);
}

/* ---- logs ---- */

static void test_logs(void)
{
	sk_buf out;
	const char *f = "2026-11-25T16:52:31.123456789Z stdout F hello world";
	const char *p = "2026-11-25T16:52:32.000000001Z stderr P part";

	sk_buf_init(&out);
	agent_log_format(f, strlen(f), false, 0, &out);
	is_str(out.data, "hello world\n", "a full record and its newline");
	sk_buf_reset(&out);
	agent_log_format(p, strlen(p), false, 0, &out);
	is_str(out.data, "part", "a partial record has no newline");
	sk_buf_reset(&out);
	agent_log_format(f, strlen(f), true, 0, &out);
	is_str(out.data, "2026-11-25T16:52:31.123456789Z hello world\n", "timestamps");
	sk_buf_reset(&out);
	int64_t t;
	sk_parse_rfc3339("2026-11-25T16:52:32Z", &t);
	agent_log_format(f, strlen(f), false, t * 1000000000LL, &out);
	ok(out.len == 0, "--since drops an older record");
	agent_log_format(p, strlen(p), false, t * 1000000000LL, &out);
	is_str(out.data, "part", "--since keeps a newer record (nanoseconds count)");
	sk_buf_reset(&out);
	agent_log_format("garbage", 7, false, 0, &out);
	ok(out.len == 0, "not a CRI record: nothing");
	agent_log_format("t stdout F ", 11, false, 0, &out);
	is_str(out.data, "\n", "an empty line");
	sk_buf_free(&out);
}

/* ---- WebSocket ---- */

static void test_websocket(void)
{
	char accept[29];
	struct agent_ws_frame f;
	sk_buf b;
	sk_err err = {0};

	agent_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept);
	is_str(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455's example accept key");

	sk_buf_init(&b);
	agent_ws_frame(&b, AGENT_WS_BINARY, "\x01hello", 6, true);
	is_int(b.len, 2 + 4 + 6, "a small masked frame");
	is_int(agent_ws_parse(b.data, 5, 1024, &f, &err), 0, "incomplete: more needed");
	is_int(agent_ws_parse(b.data, b.len, 1024, &f, &err), (int)b.len, "parsed");
	ok(f.fin && f.masked && f.opcode == AGENT_WS_BINARY, "fin, masked, binary");
	ok(f.len == 6 && !memcmp(f.payload, "\x01hello", 6), "payload unmasked");
	sk_buf_reset(&b);

	char big[70000];
	memset(big, 'x', sizeof(big));
	agent_ws_frame(&b, AGENT_WS_BINARY, big, 300, false);
	is_int(b.len, 4 + 300, "16-bit length");
	is_int(agent_ws_parse(b.data, b.len, 1024, &f, &err), (int)b.len, "16-bit parsed");
	sk_buf_reset(&b);
	agent_ws_frame(&b, AGENT_WS_BINARY, big, sizeof(big), false);
	is_int(b.len, 10 + sizeof(big), "64-bit length");
	is_int(agent_ws_parse(b.data, b.len, 100000, &f, &err), (int)b.len, "64-bit parsed");
	ok(agent_ws_parse(b.data, b.len, 1024, &f, &err) < 0, "over the bound: refused");
	sk_buf_reset(&b);

	unsigned char bad_ping[] = {0x89, 126, 0, 200};
	ok(agent_ws_parse(bad_ping, sizeof(bad_ping), 1024, &f, &err) < 0,
	   "a long control frame is refused");
	unsigned char rsv[] = {0xc2, 0};
	ok(agent_ws_parse(rsv, sizeof(rsv), 1024, &f, &err) < 0, "reserved bits refused");
	sk_buf_free(&b);
}

/* ---- the pod spec with what the agent knows ---- */

static char store[] = "/tmp/skiff-test-agent-XXXXXX";

static void test_podspec_env(void)
{
	struct rt_image_config ic = {.cmd = sk_strv_push(NULL, "sh"),
				     .env = sk_strv_push(NULL, "FROM_IMAGE=1")};
	const char *svc_env[] = {"WEB_SERVICE_HOST=10.96.0.7", "OVERRIDE=svc", NULL};
	struct agent_pod_options opt = {.extra_env = svc_env,
					.pod_ip = "10.88.0.9",
					.host_ip = "192.168.1.2",
					.node_name = "n1",
					.node_cpu_milli = 2000,
					.node_memory = 1 << 30};
	struct agent_pod ap;
	sk_err err = {0};

	ok(mkdtemp(store) != NULL, "temp store");
	_cleanup_free_ char *src = sk_path_join(store, "src");
	_cleanup_free_ char *images = sk_path_join(store, "images");
	mkdir(src, 0755);
	ok(rt_image_import(images, "busybox", src, &ic, NULL, &err) == 0, "image (%s)", err.msg);
	opt.image_dir = images;
	json_t *pod = yaml(
		"metadata: {name: p, namespace: ns1, uid: u-9, labels: {app: web}}\n"
		"spec:\n"
		"  containers:\n"
		"  - name: c\n"
		"    image: busybox\n"
		"    resources: {limits: {memory: 64Mi}, requests: {cpu: 250m}}\n"
		"    env:\n"
		"    - {name: OVERRIDE, value: pod}\n"
		"    - {name: URL, value: 'http://$(WEB_SERVICE_HOST)/'}\n"
		"    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n"
		"    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n"
		"    - {name: APP, valueFrom: {fieldRef: {fieldPath: "
		"\"metadata.labels['app']\"}}}\n"
		"    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n"
		"    - {name: HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}\n"
		"    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n"
		"    - {name: MEM, valueFrom: {resourceFieldRef: {resource: "
		"limits.memory, divisor: 1Mi}}}\n"
		"    - {name: CPU, valueFrom: {resourceFieldRef: {resource: "
		"requests.cpu, divisor: 1m}}}\n"
		"    - {name: CPULIM, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n");
	ok(agent_pod_from_json(pod, &opt, &ap, &err) == 0, "translates (%s)", err.msg);
	char **env = ap.cfg ? ap.cfg->containers[0].env : NULL;
	_cleanup_free_ char *all = NULL;
	sk_buf b;
	sk_buf_init(&b);
	for (size_t i = 0; env && env[i]; i++)
		sk_buf_printf(&b, "%s;", env[i]);
	all = sk_buf_steal(&b);
	is_str(all,
	       "FROM_IMAGE=1;WEB_SERVICE_HOST=10.96.0.7;OVERRIDE=pod;URL=http://10.96.0.7/;"
	       "NAME=p;NS=ns1;APP=web;IP=10.88.0.9;HOST=192.168.1.2;NODE=n1;MEM=64;CPU=250;"
	       "CPULIM=2;",
	       "image env, Service variables, then the pod's (winning, expanded), downward API");
	if (ap.cfg)
		agent_pod_clear(&ap);
	json_decref(pod);
	sk_strv_free(ic.cmd);
	sk_strv_free(ic.env);
	sk_rm_rf(store, &err);
}

int main(void)
{
	test_status_pending();
	test_status_running();
	test_status_crashloop();
	test_status_completed();
	test_status_init();
	test_probes();
	test_services();
	test_logs();
	test_websocket();
	test_podspec_env();
	return done_testing();
}
