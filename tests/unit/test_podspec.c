/* Unit tests for agent/podspec.c: Pods (YAML) to runtime configs, their
 * defaults, the image config, and field-path errors. Images come from a
 * small store in a temporary directory (no root needed). */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/agent.h"
#include "../../api/api.h"
#include "tap.h"

static char store[] = "/tmp/skiff-test-podspec-XXXXXX";
static struct agent_pod_options opt;

static json_t *yaml(const char *text)
{
	json_t *docs = NULL;
	sk_err err = {0};

	if (api_yaml_load(text, strlen(text), "pod.yaml", &docs, &err) < 0) {
		printf("# yaml: %s\n", err.msg);
		return NULL;
	}
	json_t *doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return doc;
}

static void make_store(void)
{
	_cleanup_free_ char *root = NULL;
	struct rt_image_config ic = {0};
	sk_err err = {0};

	ok(mkdtemp(store) != NULL, "temp store");
	root = sk_path_join(store, "src");
	mkdir(root, 0755);
	_cleanup_free_ char *bin = sk_path_join(root, "bin");
	mkdir(bin, 0755);
	ic.entrypoint = sk_strv_push(NULL, "/bin/entry");
	ic.cmd = sk_strv_push(sk_strv_push(NULL, "default"), "args");
	ic.env = sk_strv_push(sk_strv_push(NULL, "PATH=/image/bin"), "FROM_IMAGE=1");
	ic.workdir = sk_strdup("/srv");
	_cleanup_free_ char *images = sk_path_join(store, "images");
	ok(rt_image_import(images, "app:1", root, &ic, NULL, &err) == 0, "import app:1 (%s)",
	   err.msg);
	struct rt_image_config shell = {.cmd = sk_strv_push(NULL, "sh")};
	ok(rt_image_import(images, "busybox", root, &shell, NULL, &err) == 0, "import busybox (%s)",
	   err.msg);
	sk_strv_free(shell.cmd);
	opt.image_dir = sk_strdup(images);
	opt.state_dir = "/run/skiff-test";
	sk_strv_free(ic.entrypoint);
	sk_strv_free(ic.cmd);
	sk_strv_free(ic.env);
	free(ic.workdir);
}

static int translate(const char *text, struct agent_pod *p, sk_err *err)
{
	json_t *doc = yaml(text);
	int r;

	if (!doc)
		return sk_err_set(err, EINVAL, "bad yaml in the test");
	r = agent_pod_from_json(doc, &opt, p, err);
	json_decref(doc);
	return r;
}

static void refused(const char *text, const char *want, const char *name)
{
	struct agent_pod p;
	sk_err err = {0};

	if (ok(translate(text, &p, &err) < 0, "%s: refused", name))
		like(err.msg, want, "%s: the error names the field", name);
	else
		agent_pod_clear(&p);
}

static void test_defaults(void)
{
	struct agent_pod p;
	sk_err err = {0};
	const char *pod = "apiVersion: v1\n"
			  "kind: Pod\n"
			  "metadata: {name: web}\n"
			  "spec:\n"
			  "  containers:\n"
			  "  - name: app\n"
			  "    image: app:1\n"
			  "    env: [{name: GREETING, value: hi}, {name: MSG, value: \"$(GREETING) "
			  "there\"}]\n"
			  "    args: [\"$(MSG)\", \"$$(MSG)\", \"$(hostname)\"]\n"
			  "    resources:\n"
			  "      limits: {cpu: 500m, memory: 64Mi}\n"
			  "      requests: {cpu: 0.25}\n";

	if (!ok(translate(pod, &p, &err) == 0, "a small pod translates (%s)", err.msg))
		return;
	struct rt_pod_config *cfg = p.cfg;
	struct rt_container_config *c = &cfg->containers[0];
	is_str(cfg->namespace, "default", "namespace default");
	is_int(cfg->restart_policy, RT_RESTART_ALWAYS, "restartPolicy Always");
	is_int(cfg->termination_grace_seconds, 30, "terminationGracePeriodSeconds 30");
	is_str(cfg->hostname, "web", "hostname is the name");
	is_str(cfg->state_dir, "/run/skiff-test", "the node's state dir");
	ok(c->rootfs && sk_endswith(c->rootfs, "/rootfs"), "rootfs from the store (%s)", c->rootfs);
	is_str(c->argv[0], "/bin/entry", "args without command: the image's entrypoint first");
	is_str(c->argv[1], "hi there", "$(VAR) expanded, env referring to env");
	is_str(c->argv[2], "$(MSG)", "$$ escapes");
	is_str(c->argv[3], "$(hostname)", "an unknown $(x) is kept (a shell's)");
	is_str(c->env[0], "PATH=/image/bin", "image env first");
	is_str(c->env[1], "FROM_IMAGE=1", "...");
	is_str(c->env[2], "GREETING=hi", "then the pod's");
	is_str(c->working_dir, "/srv", "the image's workdir");
	is_int(c->resources.cpu_limit_milli, 500, "cpu limit 500m");
	is_int(c->resources.cpu_request_milli, 250, "cpu request 0.25");
	is_int(c->resources.memory_limit, 64 << 20, "memory limit 64Mi");
	is_int(c->resources.memory_request, 64 << 20, "memory request defaults to the limit");
	is_int(c->seccomp, RT_SECCOMP_RUNTIME_DEFAULT, "seccomp RuntimeDefault");
	ok(!c->no_new_privs && !c->privileged, "no_new_privs and privileged off");
	agent_pod_clear(&p);
}

static void test_full(void)
{
	struct agent_pod p;
	sk_err err = {0};
	const char *pod =
		"kind: Pod\n"
		"metadata: {name: full, namespace: team, uid: abc-123}\n"
		"spec:\n"
		"  restartPolicy: OnFailure\n"
		"  terminationGracePeriodSeconds: 3\n"
		"  hostname: box\n"
		"  hostAliases: [{ip: 10.1.2.3, hostnames: [foo, bar]}]\n"
		"  dnsPolicy: None\n"
		"  dnsConfig: {nameservers: [10.0.0.10], searches: [team.svc.cluster.local],\n"
		"              options: [{name: ndots, value: \"5\"}, {name: edns0}]}\n"
		"  securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: "
		"[4000], fsGroup: 2000}\n"
		"  volumes:\n"
		"  - {name: cache, emptyDir: {medium: Memory, sizeLimit: 16Mi}}\n"
		"  - {name: host, hostPath: {path: /srv/x, type: DirectoryOrCreate}}\n"
		"  initContainers:\n"
		"  - {name: init, image: busybox, command: [sh, -c, 'true']}\n"
		"  containers:\n"
		"  - name: main\n"
		"    image: busybox:latest\n"
		"    command: [sleep]\n"
		"    args: ['1']\n"
		"    workingDir: /work\n"
		"    securityContext:\n"
		"      runAsUser: 1001\n"
		"      allowPrivilegeEscalation: false\n"
		"      readOnlyRootFilesystem: true\n"
		"      capabilities: {add: [NET_ADMIN], drop: [ALL]}\n"
		"      seccompProfile: {type: Unconfined}\n"
		"    volumeMounts:\n"
		"    - {name: cache, mountPath: /cache}\n"
		"    - {name: host, mountPath: /host, readOnly: true, subPath: sub}\n";

	if (!ok(translate(pod, &p, &err) == 0, "a full pod translates (%s)", err.msg))
		return;
	struct rt_pod_config *cfg = p.cfg;
	struct rt_container_config *c = &cfg->containers[0];
	is_str(cfg->namespace, "team", "namespace");
	is_str(cfg->uid, "abc-123", "uid");
	is_int(cfg->restart_policy, RT_RESTART_ON_FAILURE, "OnFailure");
	is_int(cfg->termination_grace_seconds, 3, "grace 3");
	is_str(cfg->hostname, "box", "spec.hostname");
	is_str(cfg->hosts_entries[0], "10.1.2.3\tfoo\tbar", "hostAliases");
	is_str(cfg->resolv_conf,
	       "search team.svc.cluster.local\nnameserver 10.0.0.10\noptions ndots:5 edns0\n",
	       "dnsPolicy None with dnsConfig");
	is_int(cfg->n_init_containers, 1, "an init container");
	is_str(c->argv[0], "sleep", "command replaces the entrypoint");
	is_str(c->argv[1], "1", "args");
	ok(!c->argv[2], "and nothing of the image's cmd");
	is_str(c->working_dir, "/work", "workingDir");
	is_int(c->uid, 1001, "the container's runAsUser wins");
	is_int(c->gid, 3000, "the pod's runAsGroup");
	is_int(c->n_supplemental_groups, 2, "supplementalGroups and fsGroup");
	ok(c->no_new_privs, "allowPrivilegeEscalation false: no_new_privs");
	ok(c->read_only_rootfs, "readOnlyRootFilesystem");
	ok(c->cap_add == RT_CAP_BIT(CAP_NET_ADMIN) && c->cap_drop == RT_CAPS_ALL, "capabilities");
	is_int(c->seccomp, RT_SECCOMP_UNCONFINED, "seccompProfile Unconfined");
	is_int(c->n_mounts, 2, "two mounts");
	like(c->mounts[0].source, "/team_full/volumes/cache", "emptyDir below the pod's data dir");
	is_str(c->mounts[1].source, "/srv/x", "hostPath");
	is_str(c->mounts[1].sub_path, "sub", "subPath");
	ok(c->mounts[1].read_only, "readOnly");
	is_int(p.n_volumes, 2, "two volumes");
	ok(p.volumes[0].memory && p.volumes[0].size_limit == 16 << 20, "Memory medium, 16Mi");
	is_int(p.volumes[1].type, VOL_HOST_PATH_DIRECTORY_OR_CREATE, "hostPath type");
	agent_pod_clear(&p);
}

#define POD(containers) "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" containers

static void test_errors(void)
{
	refused(POD("  - {name: a}\n"), "spec.containers[0].image: required", "no image");
	refused(POD("  - {name: a, image: busybox, resources: {limits: {memory: 12x}}}\n"),
		"spec.containers[0].resources.limits.memory: quantity \"12x\" must match",
		"a bad quantity");
	refused("kind: Pod\nmetadata: {name: p}\nspec: {}\n", "spec.containers: Required value",
		"no containers");
	refused(POD("  - {name: A, image: busybox}\n"),
		"spec.containers[0].name: Invalid value: \"A\"", "an upper-case container name");
	refused(POD("  - {name: a, image: busybox}\n  - {name: a, image: busybox}\n"),
		"spec.containers[1].name: Duplicate value: \"a\"", "a duplicate container");
	refused(POD("  - {name: a, image: nothere:1}\n"), "spec.containers[0].image",
		"an image not in the store");
	refused(POD("  - {name: a, image: busybox, command: sh}\n"),
		"spec.containers[0].command: must be a list of strings", "command as a string");
	refused(POD("  - {name: a, image: busybox, volumeMounts: [{name: v, mountPath: /v}]}\n"),
		"spec.containers[0].volumeMounts[0].name: Not found: \"v\"", "an unknown volume");
	refused("kind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Sometimes\n"
		"  containers: [{name: a, image: busybox}]\n",
		"spec.restartPolicy: Unsupported value: \"Sometimes\"", "a bad restartPolicy");
	refused("kind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, configMap: {name: "
		"x}}]\n"
		"  containers: [{name: a, image: busybox}]\n",
		"spec.volumes[0]: volume type \"configMap\" is not supported", "configMap volumes");
	refused("kind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, hostPath: {path: /x, "
		"type: Dir}}]\n  containers: [{name: a, image: busybox}]\n",
		"spec.volumes[0].hostPath.type: unsupported value \"Dir\"", "a bad hostPath type");
	refused(POD("  - {name: a, image: busybox, securityContext: {runAsNonRoot: true}}\n"),
		"securityContext.runAsNonRoot: container has runAsNonRoot", "runAsNonRoot as root");
	refused(POD("  - {name: a, image: busybox, env: [{name: X, valueFrom: {fieldRef: {}}}]}\n"),
		"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: required",
		"env valueFrom fieldRef without fieldPath");
	refused(POD("  - {name: a, image: busybox, env: [{name: X, valueFrom: {secretKeyRef: "
		    "{name: s, key: k}}}]}\n"),
		"spec.containers[0].env[0].valueFrom: only fieldRef and resourceFieldRef",
		"env valueFrom secretKeyRef");
	refused("kind: Pod\nmetadata: {name: p}\nspec:\n  dnsPolicy: None\n"
		"  containers: [{name: a, image: busybox}]\n",
		"spec.dnsConfig: Required value", "dnsPolicy None without dnsConfig");
	refused("kind: Pod\nmetadata: {name: Bad_Name}\nspec:\n  containers: [{name: a, image: "
		"busybox}]\n",
		"metadata.name: Invalid value: \"Bad_Name\"", "a bad pod name");
	refused("kind: Service\nmetadata: {name: s}\n", "kind: \"Service\" is not a Pod",
		"a Service");
	refused(POD("  - {name: a, image: busybox, securityContext: {privileged: true, "
		    "allowPrivilegeEscalation: false}}\n"),
		"cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
		"privileged without escalation");
	refused(POD("  - {name: a, image: busybox, resources: {limits: {cpu: 1}, requests: {cpu: "
		    "2}}}\n"),
		"resources.requests: cpu request must be less than or equal to cpu limit",
		"request above limit");
}

int main(void)
{
	make_store();
	test_defaults();
	test_full();
	test_errors();
	sk_err err;
	sk_rm_rf(store, &err);
	return done_testing();
}
