/* Unit tests for the runtime's pure parts: the state-file format, config
 * and status round trips, the kubelet's phase rules, capability sets,
 * config checks and CRI log lines. No root, no kernel objects. */
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/runtime_internal.h"
#include "tap.h"

static struct rt_pod_config *sample_config(void)
{
	struct rt_pod_config *cfg = rt_pod_config_new();
	struct rt_container_config *c;

	cfg->name = sk_strdup("web");
	cfg->namespace = sk_strdup("prod");
	cfg->uid = sk_strdup("1234-abcd");
	cfg->pod_ip = sk_strdup("10.0.0.7");
	cfg->hosts_entries = sk_strv_push(NULL, "10.1.1.1\tfoo bar");
	cfg->resolv_conf = sk_strdup("nameserver 10.0.0.10\nsearch a b\n");
	cfg->restart_policy = RT_RESTART_ON_FAILURE;
	cfg->termination_grace_seconds = 7;
	cfg->netns_path = sk_strdup("/run/netns/pod x");
	c = rt_pod_add_container(cfg, true);
	c->name = sk_strdup("setup");
	c->rootfs = sk_strdup("/images/a b/rootfs");
	c->argv = sk_strv_push(sk_strv_push(NULL, "/bin/sh"), "-c");
	c->argv = sk_strv_push(c->argv, "echo 100% done\nok");
	c = rt_pod_add_container(cfg, false);
	c->name = sk_strdup("app");
	c->image = sk_strdup("busybox:latest");
	c->rootfs = sk_strdup("/images/b/rootfs");
	c->argv = sk_strv_push(NULL, "x");
	c->argv = sk_strv_push(c->argv, "");
	c->env = sk_strv_push(NULL, "A=1 2");
	c->uid = 1000;
	c->gid = 100;
	c->supplemental_groups = sk_calloc(2, sizeof(gid_t));
	c->supplemental_groups[0] = 5;
	c->supplemental_groups[1] = 6;
	c->n_supplemental_groups = 2;
	c->cap_add = RT_CAP_BIT(CAP_NET_ADMIN);
	c->cap_drop = RT_CAPS_ALL;
	c->no_new_privs = true;
	c->read_only_rootfs = true;
	c->seccomp = RT_SECCOMP_UNCONFINED;
	c->resources.cpu_limit_milli = 500;
	c->resources.memory_limit = 64 << 20;
	c->resources.pids_limit = 32;
	struct rt_mount *m = rt_container_add_mount(c);
	m->source = sk_strdup("/var/lib/x");
	m->destination = sk_strdup("/data");
	m->sub_path = sk_strdup("sub dir");
	m->read_only = true;
	m->propagation = RT_PROPAGATION_HOST_TO_CONTAINER;
	return cfg;
}

static void test_config_round_trip(void)
{
	struct rt_pod_config *cfg = sample_config(), *back = NULL;
	sk_err err = {0};

	ok(rt_pod_config_check(cfg, &err) == 0, "the sample config is valid (%s)", err.msg);
	char *text = rt_pod_config_serialize(cfg);
	ok(rt_pod_config_parse(text, &back, &err) == 0, "pod.conf parses back (%s)", err.msg);
	free(text);
	if (!back)
		return;
	is_str(back->name, "web", "name");
	is_str(back->namespace, "prod", "namespace");
	is_str(back->netns_path, "/run/netns/pod x", "netns path with a blank");
	is_str(back->hosts_entries[0], "10.1.1.1\tfoo bar", "hosts entry with a tab");
	is_str(back->resolv_conf, "nameserver 10.0.0.10\nsearch a b\n",
	       "resolv.conf with newlines");
	is_int(back->restart_policy, RT_RESTART_ON_FAILURE, "restart policy");
	is_int(back->termination_grace_seconds, 7, "grace");
	is_int(back->n_init_containers, 1, "one init container");
	is_int(back->n_containers, 1, "one container");
	is_str(back->init_containers[0].argv[2], "echo 100% done\nok", "argv with %% and newline");
	is_str(back->init_containers[0].rootfs, "/images/a b/rootfs", "rootfs with a blank");
	struct rt_container_config *c = &back->containers[0];
	is_str(c->argv[1], "", "empty argument kept");
	is_str(c->env[0], "A=1 2", "env");
	is_int(c->uid, 1000, "uid");
	is_int(c->gid, 100, "gid");
	is_int(c->n_supplemental_groups, 2, "groups");
	is_int(c->supplemental_groups[1], 6, "second group");
	ok(c->cap_add == RT_CAP_BIT(CAP_NET_ADMIN), "cap add");
	ok(c->cap_drop == RT_CAPS_ALL, "cap drop ALL");
	ok(c->no_new_privs && c->read_only_rootfs, "flags");
	is_int(c->seccomp, RT_SECCOMP_UNCONFINED, "seccomp");
	is_int(c->resources.cpu_limit_milli, 500, "cpu limit");
	is_int(c->resources.memory_limit, 64 << 20, "memory limit");
	is_int(c->resources.pids_limit, 32, "pids limit");
	is_int(c->n_mounts, 1, "one mount");
	is_str(c->mounts[0].sub_path, "sub dir", "subPath");
	ok(c->mounts[0].read_only, "read-only mount");
	is_int(c->mounts[0].propagation, RT_PROPAGATION_HOST_TO_CONTAINER, "propagation");
	char *trunc = sk_strdup("skiff-pod 1\nname x\n");
	struct rt_pod_config *bad = NULL;
	ok(rt_pod_config_parse(trunc, &bad, &err) < 0, "a truncated pod.conf is refused");
	like(err.msg, "truncated", "... and says so");
	free(trunc);
	rt_pod_config_free(back);
	rt_pod_config_free(cfg);
}

static void check_fails(struct rt_pod_config *cfg, const char *why, const char *name)
{
	sk_err err = {0};

	ok(rt_pod_config_check(cfg, &err) < 0, "%s is refused", name);
	like(err.msg, why, "%s: says %s", name, why);
	rt_pod_config_free(cfg);
}

static void test_config_checks(void)
{
	struct rt_pod_config *cfg;
	sk_err err = {0};

	cfg = sample_config();
	free(cfg->name);
	cfg->name = sk_strdup("Web");
	check_fails(cfg, "name: \"Web\"", "an upper-case name");
	cfg = sample_config();
	free(cfg->containers[0].name);
	cfg->containers[0].name = sk_strdup("setup");
	check_fails(cfg, "\"setup\" is used twice", "a duplicate container name");
	cfg = sample_config();
	sk_strv_free(cfg->containers[0].argv);
	cfg->containers[0].argv = NULL;
	check_fails(cfg, "containers[0].command: required", "no command");
	cfg = sample_config();
	cfg->containers[0].mounts[0].destination[0] = 'd';
	check_fails(cfg, "destination must be absolute", "a relative mount destination");
	cfg = sample_config();
	free(cfg->cgroup_root);
	cfg->cgroup_root = sk_strdup("../etc");
	check_fails(cfg, "cgroup root", "a cgroup root with a path");

	cfg = rt_pod_config_new();
	cfg->name = sk_strdup("a-very-long-pod-name-that-goes-on-and-on-past-sixty-three-chars-"
			      "for-sure");
	struct rt_container_config *c = rt_pod_add_container(cfg, false);
	c->name = sk_strdup("c");
	c->rootfs = sk_strdup("/r");
	c->argv = sk_strv_push(NULL, "true");
	ok(rt_pod_config_check(cfg, &err) == 0, "a long pod name is fine");
	is_int(strlen(cfg->hostname), 63, "its hostname is cut to 63 characters");
	ok(cfg->hostname[62] != '-', "... without a trailing '-'");
	is_str(cfg->namespace, "default", "namespace defaults to default");
	is_str(cfg->state_dir, RT_DEFAULT_STATE_DIR, "state dir default");
	is_str(cfg->cgroup_root, "skiff", "cgroup root default");
	ok(cfg->uid && strlen(cfg->uid) == 36, "a uid is generated");
	rt_pod_config_free(cfg);
}

static struct rt_container_status *add(struct rt_pod_status *st, bool init,
				       enum rt_container_state state, int code, bool last)
{
	struct rt_container_status **arr = init ? &st->init_containers : &st->containers;
	size_t *n = init ? &st->n_init_containers : &st->n_containers;

	*arr = sk_realloc(*arr, (*n + 1) * sizeof(**arr));
	struct rt_container_status *c = &(*arr)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->name = sk_strdup("c");
	c->init = init;
	c->state = state;
	c->exit_code = code;
	c->has_last_state = last;
	return c;
}

static void test_phases(void)
{
	struct rt_pod_status st;

	memset(&st, 0, sizeof(st));
	add(&st, false, RT_WAITING, 0, false);
	is_int(rt_pod_phase_compute(&st, RT_RESTART_ALWAYS), RT_PHASE_PENDING,
	       "a container not started yet: Pending");
	st.containers[0].state = RT_RUNNING;
	is_int(rt_pod_phase_compute(&st, RT_RESTART_ALWAYS), RT_PHASE_RUNNING, "running: Running");
	st.containers[0].state = RT_WAITING;
	st.containers[0].has_last_state = true;
	is_int(rt_pod_phase_compute(&st, RT_RESTART_ALWAYS), RT_PHASE_RUNNING,
	       "in back-off after a run: still Running");
	st.containers[0].state = RT_TERMINATED;
	st.containers[0].exit_code = 0;
	is_int(rt_pod_phase_compute(&st, RT_RESTART_NEVER), RT_PHASE_SUCCEEDED,
	       "Never, exit 0: Succeeded");
	st.containers[0].exit_code = 2;
	is_int(rt_pod_phase_compute(&st, RT_RESTART_NEVER), RT_PHASE_FAILED,
	       "Never, exit 2: Failed");
	is_int(rt_pod_phase_compute(&st, RT_RESTART_ON_FAILURE), RT_PHASE_RUNNING,
	       "OnFailure, exit 2: Running (it restarts)");
	add(&st, true, RT_RUNNING, 0, false);
	is_int(rt_pod_phase_compute(&st, RT_RESTART_NEVER), RT_PHASE_PENDING,
	       "an init container running: Pending");
	st.init_containers[0].state = RT_TERMINATED;
	st.init_containers[0].exit_code = 1;
	is_int(rt_pod_phase_compute(&st, RT_RESTART_NEVER), RT_PHASE_FAILED,
	       "an init container failed with Never: Failed");
	is_int(rt_pod_phase_compute(&st, RT_RESTART_ALWAYS), RT_PHASE_PENDING,
	       "... with Always: Pending (it retries)");
	rt_pod_status_free(&st);
}

static void test_status_round_trip(void)
{
	struct rt_pod_status st, back;
	sk_err err = {0};

	memset(&st, 0, sizeof(st));
	st.id = sk_strdup("default_web");
	st.name = sk_strdup("web");
	st.namespace = sk_strdup("default");
	st.uid = sk_strdup("u");
	st.phase = RT_PHASE_RUNNING;
	st.supervisor_pid = 42;
	st.created_at = 1700000000123456789LL;
	struct rt_container_status *c = add(&st, false, RT_WAITING, 0, true);
	c->reason = sk_strdup("CrashLoopBackOff");
	c->message = sk_strdup("back-off 10s restarting failed container=c pod=web");
	c->restart_count = 3;
	c->last_state.exit_code = 137;
	c->last_state.signal = 9;
	c->last_state.reason = sk_strdup("OOMKilled");
	c->last_state.finished_at = 5;
	char *text = rt_pod_status_serialize(&st);
	ok(rt_pod_status_parse(text, &back, &err) == 0, "status parses back (%s)", err.msg);
	free(text);
	is_str(back.id, "default_web", "id");
	is_int(back.phase, RT_PHASE_RUNNING, "phase");
	is_int(back.supervisor_pid, 42, "supervisor pid");
	ok(back.created_at == 1700000000123456789LL, "created_at in ns");
	is_int(back.n_containers, 1, "one container");
	is_str(back.containers[0].reason, "CrashLoopBackOff", "waiting reason");
	is_str(back.containers[0].message, st.containers[0].message, "message with blanks");
	is_int(back.containers[0].restart_count, 3, "restarts");
	ok(back.containers[0].has_last_state, "last state");
	is_int(back.containers[0].last_state.exit_code, 137, "last exit code");
	is_str(back.containers[0].last_state.reason, "OOMKilled", "last reason");
	is_str(rt_pod_status_summary(&back), "Unknown", "summary without a live supervisor");
	back.supervisor_alive = true;
	is_str(rt_pod_status_summary(&back), "CrashLoopBackOff", "summary: CrashLoopBackOff");
	rt_pod_status_free(&back);
	rt_pod_status_free(&st);
}

static void test_caps(void)
{
	struct rt_container_config c;
	uint64_t m = 0;
	sk_err err = {0};
	uint64_t have = rt_caps_supported();

	ok(rt_caps_default() == 0xa80425fbULL, "containerd's default set is 00000000a80425fb");
	ok(rt_cap_from_name("NET_ADMIN", &m, &err) == 0 && m == RT_CAP_BIT(CAP_NET_ADMIN),
	   "NET_ADMIN");
	ok(rt_cap_from_name("cap_sys_ptrace", &m, &err) == 0 && m == RT_CAP_BIT(CAP_SYS_PTRACE),
	   "cap_sys_ptrace, any case and prefix");
	ok(rt_cap_from_name("ALL", &m, &err) == 0 && m == RT_CAPS_ALL, "ALL");
	ok(rt_cap_from_name("NET_FLY", &m, &err) < 0, "an unknown name is refused");
	like(err.msg, "unknown capability \"NET_FLY\"", "... by name");
	memset(&c, 0, sizeof(c));
	ok(rt_caps_effective(&c) == (rt_caps_default() & have), "no add/drop: the default set");
	c.cap_drop = RT_CAP_BIT(CAP_NET_RAW) | RT_CAP_BIT(CAP_CHOWN);
	c.cap_add = RT_CAP_BIT(CAP_NET_ADMIN);
	ok(rt_caps_effective(&c) == ((rt_caps_default() | RT_CAP_BIT(CAP_NET_ADMIN)) &
				     ~(RT_CAP_BIT(CAP_NET_RAW) | RT_CAP_BIT(CAP_CHOWN)) & have),
	   "add NET_ADMIN, drop NET_RAW and CHOWN");
	c.cap_drop = RT_CAPS_ALL;
	ok(rt_caps_effective(&c) == (RT_CAP_BIT(CAP_NET_ADMIN) & have),
	   "drop ALL then add NET_ADMIN: only it (containerd's order)");
	c.cap_add = RT_CAPS_ALL;
	c.cap_drop = RT_CAP_BIT(CAP_SYS_ADMIN);
	ok(rt_caps_effective(&c) == (have & ~RT_CAP_BIT(CAP_SYS_ADMIN)), "add ALL, drop SYS_ADMIN");
	memset(&c, 0, sizeof(c));
	c.privileged = true;
	c.cap_drop = RT_CAPS_ALL;
	ok(rt_caps_effective(&c) == have, "privileged: everything the runtime has");
}

static void test_record(void)
{
	sk_buf b;
	char *tok[3] = {"a b", "", "x%y\n"};
	struct rt_rec_reader r;

	sk_buf_init(&b);
	rt_rec_line(&b, "key", tok, 3);
	is_str(b.data, "key a%20b % x%25y%0A\n", "tokens are percent-encoded, empty is %%");
	rt_rec_reader_init(&r, b.data);
	ok(rt_rec_next(&r) == 1 && r.n == 4, "one line of four tokens");
	is_str(r.tok[1], "a b", "blank decoded");
	is_str(r.tok[2], "", "empty decoded");
	is_str(r.tok[3], "x%y\n", "percent and newline decoded");
	ok(rt_rec_next(&r) == 0, "end");
	rt_rec_reader_free(&r);
	sk_buf_free(&b);
}

static void test_crilog(void)
{
	char dir[] = "/tmp/skiff-test-crilog-XXXXXX";
	struct rt_crilog l;
	sk_err err = {0};
	char *text = NULL;
	size_t len = 0;
	regex_t re;

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(rt_crilog_open(&l, dir, 0, &err) == 0, "open a log (%s)", err.msg);
	rt_crilog_feed(&l, 0, "hello\nwor", 9);
	rt_crilog_feed(&l, 1, "oops\n", 5);
	rt_crilog_feed(&l, 0, "ld\n", 3);
	char *big = sk_malloc(20000);
	memset(big, 'x', 20000);
	rt_crilog_feed(&l, 0, big, 20000);
	rt_crilog_feed(&l, 0, "tail", 4);
	rt_crilog_close(&l);
	free(big);
	_cleanup_free_ char *path = sk_asprintf("%s/0.log", dir);
	ok(sk_read_file(path, 0, &text, &len, &err) == 0, "read it back");
	regcomp(&re,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z stdout F "
		"hello\n"
		"[^ ]+ stderr F oops\n"
		"[^ ]+ stdout F world\n"
		"[^ ]+ stdout P x{16384}\n"
		"[^ ]+ stdout F x{3616}tail\n$",
		REG_EXTENDED | REG_NOSUB);
	ok(text && regexec(&re, text, 0, NULL, 0) == 0,
	   "CRI lines: time, stream, F/P, text; a line over 16 KiB is split with P; the last "
	   "unterminated line is F");
	regfree(&re);
	free(text);
	ok(rt_crilog_open(&l, dir, 2, &err) == 0, "a third start");
	rt_crilog_close(&l);
	ok(!sk_path_exists(path), "... removes the first start's log (two are kept)");
	sk_rm_rf(dir, &err);
}

int main(void)
{
	test_record();
	test_config_round_trip();
	test_config_checks();
	test_phases();
	test_status_round_trip();
	test_caps();
	test_crilog();
	return done_testing();
}
