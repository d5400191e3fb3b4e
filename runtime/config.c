/* Pod and container configs: defaults, checks, and their state file
 * (pod.conf, written by rt_pod_create, read by the supervisor and by a
 * restarted agent). */
#include "runtime_internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

struct rt_pod_config *rt_pod_config_new(void)
{
	struct rt_pod_config *cfg = sk_calloc(1, sizeof(*cfg));

	cfg->restart_policy = RT_RESTART_ALWAYS;
	cfg->termination_grace_seconds = 30;
	return cfg;
}

static void container_init(struct rt_container_config *c)
{
	memset(c, 0, sizeof(*c));
	c->uid = -1;
	c->gid = -1;
	c->seccomp = RT_SECCOMP_RUNTIME_DEFAULT;
}

struct rt_container_config *rt_pod_add_container(struct rt_pod_config *cfg, bool init)
{
	struct rt_container_config **arr = init ? &cfg->init_containers : &cfg->containers;
	size_t *n = init ? &cfg->n_init_containers : &cfg->n_containers;
	struct rt_container_config *c;

	*arr = sk_realloc(*arr, (*n + 1) * sizeof(**arr));
	c = &(*arr)[(*n)++];
	container_init(c);
	return c;
}

struct rt_mount *rt_container_add_mount(struct rt_container_config *c)
{
	struct rt_mount *m;

	c->mounts = sk_realloc(c->mounts, (c->n_mounts + 1) * sizeof(*c->mounts));
	m = &c->mounts[c->n_mounts++];
	memset(m, 0, sizeof(*m));
	return m;
}

static void container_free(struct rt_container_config *c)
{
	free(c->name);
	free(c->image);
	free(c->rootfs);
	sk_strv_free(c->argv);
	sk_strv_free(c->env);
	free(c->working_dir);
	free(c->user);
	free(c->supplemental_groups);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].source);
		free(c->mounts[i].destination);
		free(c->mounts[i].sub_path);
	}
	free(c->mounts);
}

void rt_pod_config_free(struct rt_pod_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->name);
	free(cfg->namespace);
	free(cfg->uid);
	free(cfg->hostname);
	free(cfg->netns_path);
	free(cfg->pod_ip);
	sk_strv_free(cfg->hosts_entries);
	free(cfg->resolv_conf);
	free(cfg->cgroup_root);
	free(cfg->state_dir);
	free(cfg->log_dir);
	free(cfg->data_dir);
	for (size_t i = 0; i < cfg->n_init_containers; i++)
		container_free(&cfg->init_containers[i]);
	free(cfg->init_containers);
	for (size_t i = 0; i < cfg->n_containers; i++)
		container_free(&cfg->containers[i]);
	free(cfg->containers);
	free(cfg);
}

char *rt_pod_id(const char *namespace, const char *name)
{
	return sk_asprintf("%s_%s", namespace ? namespace : "default", name);
}

/* ---- checks ----------------------------------------------------------------- */

/* RFC 1123 label: what Kubernetes wants for namespaces and container names;
 * it also keeps these names safe as path components and cgroup names. */
static bool is_dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* RFC 1123 subdomain, as metadata.name of a Pod. */
static bool is_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static bool is_safe_component(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static void default_str(char **field, const char *value)
{
	if (!*field)
		*field = sk_strdup(value);
}

static int check_container(const struct rt_container_config *c, const char *what, size_t i,
			   sk_err *err)
{
	if (!c->name || !is_dns_label(c->name))
		return sk_err_set(err, EINVAL,
				  "%s[%zu].name: \"%s\" must be a lower-case RFC 1123 label", what,
				  i, c->name ? c->name : "");
	if (!c->rootfs || c->rootfs[0] != '/')
		return sk_err_set(err, EINVAL, "%s[%zu].rootfs: an absolute path is required", what,
				  i);
	if (!c->argv || !c->argv[0] || !c->argv[0][0])
		return sk_err_set(err, EINVAL, "%s[%zu].command: required", what, i);
	if (c->working_dir && c->working_dir[0] != '/')
		return sk_err_set(err, EINVAL, "%s[%zu].workingDir: \"%s\" must be absolute", what,
				  i, c->working_dir);
	if (c->resources.cpu_limit_milli < 0 || c->resources.cpu_request_milli < 0 ||
	    c->resources.memory_limit < 0 || c->resources.memory_request < 0 ||
	    c->resources.pids_limit < 0)
		return sk_err_set(err, EINVAL, "%s[%zu].resources: negative value", what, i);
	for (size_t k = 0; k < c->n_mounts; k++) {
		const struct rt_mount *m = &c->mounts[k];
		if (!m->destination || m->destination[0] != '/')
			return sk_err_set(err, EINVAL,
					  "%s[%zu].mounts[%zu]: destination must be absolute", what,
					  i, k);
		if (!m->source || m->source[0] != '/')
			return sk_err_set(err, EINVAL,
					  "%s[%zu].mounts[%zu]: source must be an absolute path",
					  what, i, k);
		if (m->propagation == RT_PROPAGATION_BIDIRECTIONAL && !c->privileged)
			return sk_err_set(err, EINVAL,
					  "%s[%zu].mounts[%zu]: Bidirectional propagation needs a "
					  "privileged container",
					  what, i, k);
	}
	return 0;
}

static int check_unique_names(const struct rt_pod_config *cfg, sk_err *err)
{
	size_t n = cfg->n_init_containers + cfg->n_containers;

	for (size_t a = 0; a < n; a++) {
		const struct rt_container_config *ca = rt_pod_container_at(cfg, a);
		for (size_t b = a + 1; b < n; b++)
			if (sk_streq(ca->name, rt_pod_container_at(cfg, b)->name))
				return sk_err_set(err, EEXIST,
						  "container name \"%s\" is used twice", ca->name);
	}
	return 0;
}

int rt_pod_config_check(struct rt_pod_config *cfg, sk_err *err)
{
	if (!cfg->name || !is_dns_subdomain(cfg->name))
		return sk_err_set(err, EINVAL,
				  "name: \"%s\" must be a lower-case RFC 1123 subdomain",
				  cfg->name ? cfg->name : "");
	default_str(&cfg->namespace, "default");
	if (!is_dns_label(cfg->namespace))
		return sk_err_set(err, EINVAL,
				  "namespace: \"%s\" must be a lower-case RFC 1123 label",
				  cfg->namespace);
	if (!cfg->uid) {
		char uuid[40];
		sk_uuid4(uuid, sizeof(uuid));
		cfg->uid = sk_strdup(uuid);
	}
	if (!is_safe_component(cfg->uid))
		return sk_err_set(err, EINVAL,
				  "uid: \"%s\" has characters other than [A-Za-z0-9._-]", cfg->uid);
	if (!cfg->hostname) {
		/* the kubelet's rule: the pod name, cut to 63 characters without a
		 * trailing '-' or '.' */
		size_t n = strlen(cfg->name) > 63 ? 63 : strlen(cfg->name);
		while (n > 1 && (cfg->name[n - 1] == '-' || cfg->name[n - 1] == '.'))
			n--;
		cfg->hostname = sk_strndup(cfg->name, n);
	}
	if (strlen(cfg->hostname) > 64 || !*cfg->hostname)
		return sk_err_set(err, EINVAL, "hostname: \"%s\" must have 1 to 64 characters",
				  cfg->hostname);
	default_str(&cfg->cgroup_root, RT_DEFAULT_CGROUP_ROOT);
	if (!is_safe_component(cfg->cgroup_root))
		return sk_err_set(err, EINVAL,
				  "cgroup root: \"%s\" must be one name of [A-Za-z0-9._-]",
				  cfg->cgroup_root);
	default_str(&cfg->state_dir, RT_DEFAULT_STATE_DIR);
	default_str(&cfg->log_dir, RT_DEFAULT_LOG_DIR);
	default_str(&cfg->data_dir, RT_DEFAULT_DATA_DIR);
	if (cfg->state_dir[0] != '/' || cfg->log_dir[0] != '/' || cfg->data_dir[0] != '/')
		return sk_err_set(err, EINVAL, "state, log and data directories must be absolute");
	if (cfg->netns_path && cfg->host_network)
		return sk_err_set(err, EINVAL,
				  "hostNetwork and a network namespace path exclude each other");
	if (cfg->termination_grace_seconds < 0)
		return sk_err_set(err, EINVAL, "terminationGracePeriodSeconds: must be >= 0");
	if (cfg->pids_limit < 0)
		return sk_err_set(err, EINVAL, "pids limit: must be >= 0");
	if (cfg->n_containers == 0)
		return sk_err_set(err, EINVAL, "containers: at least one container is required");
	for (size_t i = 0; i < cfg->n_init_containers; i++)
		if (check_container(&cfg->init_containers[i], "initContainers", i, err) < 0)
			return -1;
	for (size_t i = 0; i < cfg->n_containers; i++)
		if (check_container(&cfg->containers[i], "containers", i, err) < 0)
			return -1;
	return check_unique_names(cfg, err);
}

struct rt_container_config *rt_pod_container_at(const struct rt_pod_config *cfg, size_t i)
{
	if (i < cfg->n_init_containers)
		return &cfg->init_containers[i];
	return &cfg->containers[i - cfg->n_init_containers];
}

/* ---- pod.conf ---------------------------------------------------------------- */

static const char *const policy_names[] = {"Always", "OnFailure", "Never"};
static const char *const propagation_names[] = {"None", "HostToContainer", "Bidirectional"};

static void write_container(sk_buf *b, const struct rt_container_config *c, bool init)
{
	const struct rt_resources *r = &c->resources;

	rt_rec_str(b, init ? "init_container" : "container", c->name);
	rt_rec_str(b, "image", c->image);
	rt_rec_str(b, "rootfs", c->rootfs);
	rt_rec_strv(b, "argv", c->argv);
	for (size_t i = 0; c->env && c->env[i]; i++)
		rt_rec_str(b, "env", c->env[i]);
	rt_rec_str(b, "working_dir", c->working_dir);
	rt_rec_int(b, "uid", c->uid);
	rt_rec_int(b, "gid", c->gid);
	rt_rec_str(b, "user", c->user);
	for (size_t i = 0; i < c->n_supplemental_groups; i++)
		rt_rec_int(b, "group", c->supplemental_groups[i]);
	rt_rec_int(b, "cap_add", (int64_t)c->cap_add);
	rt_rec_int(b, "cap_drop", (int64_t)c->cap_drop);
	rt_rec_int(b, "privileged", c->privileged);
	rt_rec_int(b, "no_new_privs", c->no_new_privs);
	rt_rec_int(b, "read_only_rootfs", c->read_only_rootfs);
	rt_rec_str(b, "seccomp",
		   c->seccomp == RT_SECCOMP_UNCONFINED ? "Unconfined" : "RuntimeDefault");
	rt_rec_int(b, "cpu_limit_milli", r->cpu_limit_milli);
	rt_rec_int(b, "cpu_request_milli", r->cpu_request_milli);
	rt_rec_int(b, "memory_limit", r->memory_limit);
	rt_rec_int(b, "memory_request", r->memory_request);
	rt_rec_int(b, "pids_limit", r->pids_limit);
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rt_mount *m = &c->mounts[i];
		char *tok[5] = {m->source, m->destination, m->read_only ? "ro" : "rw",
				(char *)propagation_names[m->propagation], m->sub_path};
		rt_rec_line(b, "mount", tok, m->sub_path ? 5 : 4);
	}
}

char *rt_pod_config_serialize(const struct rt_pod_config *cfg)
{
	sk_buf b;

	sk_buf_init(&b);
	rt_rec_str(&b, "skiff-pod", "1");
	rt_rec_str(&b, "name", cfg->name);
	rt_rec_str(&b, "namespace", cfg->namespace);
	rt_rec_str(&b, "uid", cfg->uid);
	rt_rec_str(&b, "hostname", cfg->hostname);
	rt_rec_int(&b, "host_network", cfg->host_network);
	rt_rec_int(&b, "host_ipc", cfg->host_ipc);
	rt_rec_int(&b, "host_pid", cfg->host_pid);
	rt_rec_str(&b, "netns_path", cfg->netns_path);
	rt_rec_str(&b, "pod_ip", cfg->pod_ip);
	for (size_t i = 0; cfg->hosts_entries && cfg->hosts_entries[i]; i++)
		rt_rec_str(&b, "hosts_entry", cfg->hosts_entries[i]);
	rt_rec_str(&b, "resolv_conf", cfg->resolv_conf);
	rt_rec_str(&b, "restart_policy", policy_names[cfg->restart_policy]);
	rt_rec_int(&b, "grace_seconds", cfg->termination_grace_seconds);
	rt_rec_int(&b, "pids_limit", cfg->pids_limit);
	rt_rec_str(&b, "cgroup_root", cfg->cgroup_root);
	rt_rec_str(&b, "state_dir", cfg->state_dir);
	rt_rec_str(&b, "log_dir", cfg->log_dir);
	rt_rec_str(&b, "data_dir", cfg->data_dir);
	for (size_t i = 0; i < cfg->n_init_containers; i++)
		write_container(&b, &cfg->init_containers[i], true);
	for (size_t i = 0; i < cfg->n_containers; i++)
		write_container(&b, &cfg->containers[i], false);
	sk_buf_puts(&b, "end\n");
	return sk_buf_steal(&b);
}

static int parse_enum(const char *s, const char *const *names, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

static bool flag_arg(const struct rt_rec_reader *r)
{
	return r->n > 1 && strcmp(r->tok[1], "0") != 0;
}

/* One key of a container section; returns 1 when the key is not a container's. */
static int read_container_key(struct rt_rec_reader *r, struct rt_container_config *c, sk_err *err)
{
	const char *k = r->tok[0];
	int64_t v = 0;
	int e;

	if (!strcmp(k, "image"))
		c->image = rt_rec_dup_arg(r, 1);
	else if (!strcmp(k, "rootfs"))
		c->rootfs = rt_rec_dup_arg(r, 1);
	else if (!strcmp(k, "argv"))
		c->argv = rt_rec_strv_args(r, 1);
	else if (!strcmp(k, "env"))
		c->env = sk_strv_push(c->env, r->n > 1 ? r->tok[1] : "");
	else if (!strcmp(k, "working_dir"))
		c->working_dir = rt_rec_dup_arg(r, 1);
	else if (!strcmp(k, "user"))
		c->user = rt_rec_dup_arg(r, 1);
	else if (!strcmp(k, "privileged"))
		c->privileged = flag_arg(r);
	else if (!strcmp(k, "no_new_privs"))
		c->no_new_privs = flag_arg(r);
	else if (!strcmp(k, "read_only_rootfs"))
		c->read_only_rootfs = flag_arg(r);
	else if (!strcmp(k, "seccomp"))
		c->seccomp = r->n > 1 && !strcmp(r->tok[1], "Unconfined")
				     ? RT_SECCOMP_UNCONFINED
				     : RT_SECCOMP_RUNTIME_DEFAULT;
	else if (!strcmp(k, "mount")) {
		struct rt_mount *m = rt_container_add_mount(c);
		int prop = 0;
		if (r->n < 5 || parse_enum(r->tok[4], propagation_names, 3, &prop) < 0)
			return sk_err_set(err, EINVAL, "line %d: bad mount", r->lineno);
		m->source = sk_strdup(r->tok[1]);
		m->destination = sk_strdup(r->tok[2]);
		m->read_only = !strcmp(r->tok[3], "ro");
		m->propagation = (enum rt_propagation)prop;
		if (r->n > 5)
			m->sub_path = sk_strdup(r->tok[5]);
	} else {
		static const char *const ints[] = {"uid",
						   "gid",
						   "group",
						   "cap_add",
						   "cap_drop",
						   "cpu_limit_milli",
						   "cpu_request_milli",
						   "memory_limit",
						   "memory_request",
						   "pids_limit"};
		size_t i;
		for (i = 0; i < SK_ARRAY_SIZE(ints) && strcmp(k, ints[i]); i++)
			;
		if (i == SK_ARRAY_SIZE(ints))
			return 1;
		if (rt_rec_int_arg(r, 1, &v, err) < 0)
			return -1;
		e = (int)i;
		if (e == 0)
			c->uid = v;
		else if (e == 1)
			c->gid = v;
		else if (e == 2) {
			c->supplemental_groups =
				sk_realloc(c->supplemental_groups,
					   (c->n_supplemental_groups + 1) * sizeof(gid_t));
			c->supplemental_groups[c->n_supplemental_groups++] = (gid_t)v;
		} else if (e == 3)
			c->cap_add = (uint64_t)v;
		else if (e == 4)
			c->cap_drop = (uint64_t)v;
		else if (e == 5)
			c->resources.cpu_limit_milli = v;
		else if (e == 6)
			c->resources.cpu_request_milli = v;
		else if (e == 7)
			c->resources.memory_limit = v;
		else if (e == 8)
			c->resources.memory_request = v;
		else
			c->resources.pids_limit = v;
	}
	return 0;
}

static int read_pod_key(struct rt_rec_reader *r, struct rt_pod_config *cfg, sk_err *err)
{
	const char *k = r->tok[0];
	char **strs[] = {&cfg->name,	   &cfg->namespace, &cfg->uid,	       &cfg->hostname,
			 &cfg->netns_path, &cfg->pod_ip,    &cfg->resolv_conf, &cfg->cgroup_root,
			 &cfg->state_dir,  &cfg->log_dir,   &cfg->data_dir};
	static const char *const str_keys[] = {
		"name",	       "namespace",   "uid",	   "hostname", "netns_path", "pod_ip",
		"resolv_conf", "cgroup_root", "state_dir", "log_dir",  "data_dir"};
	int64_t v;

	for (size_t i = 0; i < SK_ARRAY_SIZE(str_keys); i++) {
		if (!strcmp(k, str_keys[i])) {
			free(*strs[i]);
			*strs[i] = rt_rec_dup_arg(r, 1);
			return 0;
		}
	}
	if (!strcmp(k, "host_network"))
		cfg->host_network = flag_arg(r);
	else if (!strcmp(k, "host_ipc"))
		cfg->host_ipc = flag_arg(r);
	else if (!strcmp(k, "host_pid"))
		cfg->host_pid = flag_arg(r);
	else if (!strcmp(k, "hosts_entry"))
		cfg->hosts_entries = sk_strv_push(cfg->hosts_entries, r->n > 1 ? r->tok[1] : "");
	else if (!strcmp(k, "restart_policy")) {
		int p;
		if (r->n < 2 || parse_enum(r->tok[1], policy_names, 3, &p) < 0)
			return sk_err_set(err, EINVAL, "line %d: bad restart policy", r->lineno);
		cfg->restart_policy = (enum rt_restart_policy)p;
	} else if (!strcmp(k, "grace_seconds")) {
		if (rt_rec_int_arg(r, 1, &v, err) < 0)
			return -1;
		cfg->termination_grace_seconds = v;
	} else if (!strcmp(k, "pids_limit")) {
		if (rt_rec_int_arg(r, 1, &v, err) < 0)
			return -1;
		cfg->pids_limit = v;
	} else if (strcmp(k, "skiff-pod") != 0) {
		return 1;
	}
	return 0;
}

int rt_pod_config_parse(char *text, struct rt_pod_config **out, sk_err *err)
{
	struct rt_pod_config *cfg = rt_pod_config_new();
	struct rt_container_config *cur = NULL;
	struct rt_rec_reader r;
	bool ended = false;
	int ret = 0;

	rt_rec_reader_init(&r, text);
	while (ret == 0 && rt_rec_next(&r)) {
		const char *k = r.tok[0];
		if (!strcmp(k, "end")) {
			ended = true;
			break;
		}
		if (!strcmp(k, "container") || !strcmp(k, "init_container")) {
			cur = rt_pod_add_container(cfg, k[0] == 'i');
			cur->name = rt_rec_dup_arg(&r, 1);
			continue;
		}
		ret = cur ? read_container_key(&r, cur, err) : read_pod_key(&r, cfg, err);
		if (ret > 0)
			ret = sk_err_set(err, EINVAL, "line %d: unknown key \"%s\"", r.lineno, k);
	}
	rt_rec_reader_free(&r);
	if (ret == 0 && !ended)
		ret = sk_err_set(err, EINVAL, "truncated (no \"end\" line)");
	if (ret < 0) {
		rt_pod_config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int rt_pod_config_load(const char *state_dir, const char *id, struct rt_pod_config **cfg,
		       sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("%s/%s/pod.conf", state_dir, id);
	_cleanup_free_ char *text = NULL;

	if (sk_read_file(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	if (rt_pod_config_parse(text, cfg, err) < 0)
		return sk_err_wrap(err, "%s", path);
	return 0;
}
