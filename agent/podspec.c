/* A Kubernetes Pod (JSON tree) becomes runtime configs here and nowhere
 * else: `skiff play` and the node agent both call agent_pod_from_json.
 * Fields are checked as they are read, and an error names the field path
 * and the reason, as the apiserver's validation would. Defaults follow the
 * apiserver and the kubelet (with the kubelet's seccompDefault on: the
 * RuntimeDefault profile unless a pod asks for Unconfined). */
#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <string.h>

#include "../api/api.h"

struct ps {
	const struct agent_pod_options *opt;
	json_t *pod;
	struct agent_pod *out;
	json_t *pod_sc; /* spec.securityContext (may be NULL) */
};

static int field_err(sk_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int field_err(sk_err *err, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sk_err_set(err, EINVAL, "%s: %s", path, msg);
}

/* ---- typed getters ------------------------------------------------------------------ */

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

static int get_str(json_t *obj, const char *key, const char *path, bool required, const char **out,
		   sk_err *err)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (!v || (json_is_string(v) && !json_string_value(v)[0])) {
		if (required)
			return field_err(err, path, "required");
		return 0;
	}
	if (!json_is_string(v))
		return field_err(err, path, "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int get_bool(json_t *obj, const char *key, const char *path, bool *out, bool *set,
		    sk_err *err)
{
	json_t *v = get(obj, key);

	if (set)
		*set = v != NULL;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return field_err(err, path, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_int(json_t *obj, const char *key, const char *path, int64_t min, int64_t max,
		   int64_t *out, bool *set, sk_err *err)
{
	json_t *v = get(obj, key);

	if (set)
		*set = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return field_err(err, path, "must be an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return field_err(err, path, "must be between %lld and %lld", (long long)min,
				 (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* An array of strings (NULL when absent); *present tells "set, maybe empty". */
static int get_strv(json_t *obj, const char *key, const char *path, char ***out, bool *present,
		    sk_err *err)
{
	json_t *v = get(obj, key), *item;
	size_t i;

	*out = NULL;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return field_err(err, path, "must be a list of strings");
	*out = sk_calloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach (v, i, item) {
		if (!json_is_string(item)) {
			sk_strv_free(*out);
			*out = NULL;
			return field_err(err, path, "item %zu must be a string", i);
		}
		(*out)[i] = sk_strdup(json_string_value(item));
	}
	return 0;
}

static json_t *get_array(json_t *obj, const char *key, const char *path, sk_err *err, int *ret)
{
	json_t *v = get(obj, key);

	*ret = 0;
	if (v && !json_is_array(v)) {
		*ret = field_err(err, path, "must be a list");
		return NULL;
	}
	return v;
}

/* A quantity written as a string ("128Mi") or a number (2, 0.5). */
static int get_quantity(json_t *v, const char *path, bool milli, int64_t *out, sk_err *err)
{
	char num[64];
	const char *s;
	int r;

	if (json_is_string(v)) {
		s = json_string_value(v);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		s = num;
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		s = num;
	} else {
		return field_err(err, path, "must be a quantity (a string such as \"128Mi\")");
	}
	r = milli ? api_quantity_milli(s, out, err) : api_quantity_value(s, out, err);
	if (r < 0)
		return sk_err_wrap(err, "%s", path);
	return 0;
}

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

static bool is_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	_cleanup_free_ char *copy = sk_strdup(s);
	for (char *save = NULL, *p = strtok_r(copy, ".", &save); p; p = strtok_r(NULL, ".", &save))
		if (!is_dns_label(p))
			return false;
	return s[0] != '.' && s[n - 1] != '.' && !strstr(s, "..");
}

static const char dns_label_rule[] =
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
	"'-', and must start and end with an alphanumeric character";
static const char dns_subdomain_rule[] =
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
	"'-' or '.', and must start and end with an alphanumeric character";

/* ---- env and $(VAR) ---------------------------------------------------------------- */

static const char *env_lookup(char **env, const char *name, size_t n)
{
	const char *found = NULL;

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			found = env[i] + n + 1; /* the last definition wins */
	return found;
}

/* Kubernetes' expansion of $(VAR) in command, args and env values:
 * defined variables are replaced, "$$" is a literal "$", anything else
 * (e.g. a shell's "$(hostname)") is kept as written. */
static char *expand(const char *s, char **env)
{
	sk_buf b;

	sk_buf_init(&b);
	for (const char *p = s; *p; p++) {
		if (p[0] == '$' && p[1] == '$') {
			sk_buf_putc(&b, '$');
			p++;
			continue;
		}
		if (p[0] == '$' && p[1] == '(') {
			const char *end = strchr(p + 2, ')');
			const char *v = end ? env_lookup(env, p + 2, (size_t)(end - p - 2)) : NULL;
			if (v) {
				sk_buf_puts(&b, v);
				p = end;
				continue;
			}
		}
		sk_buf_putc(&b, *p);
	}
	return sk_buf_steal(&b);
}

/* metadata.labels['app'] -> the value of key app in map, or "" */
static const char *subscript(json_t *map, const char *expr)
{
	const char *open = strchr(expr, '[');
	size_t n;

	if (!open || (open[1] != '\'' && open[1] != '"'))
		return NULL;
	n = strlen(open + 2);
	if (n < 2 || open[2 + n - 1] != ']' || open[2 + n - 2] != open[1])
		return NULL;
	_cleanup_free_ char *key = sk_strndup(open + 2, n - 2);
	const char *v = json_string_value(get(map, key));
	return v ? v : "";
}

/* env[].valueFrom.fieldRef: the downward API's pod fields. */
static int field_ref(struct ps *ps, json_t *ref, const char *path, char **out, sk_err *err)
{
	const char *fp;
	const char *v = NULL;
	json_t *meta = get(ps->pod, "metadata");

	if (get_str(ref, "fieldPath", path, true, &fp, err) < 0)
		return -1;
	if (!strcmp(fp, "metadata.name"))
		v = ps->out->cfg->name;
	else if (!strcmp(fp, "metadata.namespace"))
		v = ps->out->cfg->namespace;
	else if (!strcmp(fp, "metadata.uid"))
		v = json_string_value(get(meta, "uid"));
	else if (sk_startswith(fp, "metadata.labels["))
		v = subscript(get(meta, "labels"), fp);
	else if (sk_startswith(fp, "metadata.annotations["))
		v = subscript(get(meta, "annotations"), fp);
	else if (!strcmp(fp, "spec.nodeName"))
		v = ps->opt->node_name ? ps->opt->node_name : api_get_str(ps->pod, "spec.nodeName");
	else if (!strcmp(fp, "spec.serviceAccountName"))
		v = api_get_str(ps->pod, "spec.serviceAccountName");
	else if (!strcmp(fp, "status.hostIP") || !strcmp(fp, "status.hostIPs"))
		v = ps->opt->host_ip;
	else if (!strcmp(fp, "status.podIP") || !strcmp(fp, "status.podIPs"))
		v = ps->opt->pod_ip;
	else
		return field_err(err, path, "Unsupported value: \"%s\"", fp);
	*out = sk_strdup(v ? v : "");
	return 0;
}

static int read_resources(json_t *cj, const char *path, struct rt_resources *r, sk_err *err);

/* env[].valueFrom.resourceFieldRef: a container's request or limit in
 * units of the divisor, rounded up; an unset limit is the node's
 * allocatable, as the kubelet does. */
static int resource_ref(struct ps *ps, json_t *ref, json_t *cj, const char *path, char **out,
			sk_err *err)
{
	const char *res;
	struct rt_resources r = {0};
	int64_t divisor = 0, value;

	if (get_str(ref, "resource", path, true, &res, err) < 0)
		return -1;
	const char *cname = json_string_value(get(ref, "containerName"));
	json_t *target = cj;
	if (cname) {
		json_t *c;
		size_t i;
		target = NULL;
		json_array_foreach (api_get(ps->pod, "spec.containers"), i, c)
			if (sk_streq(json_string_value(get(c, "name")), cname))
				target = c;
		if (!target)
			return field_err(err, path, "container \"%s\" not found", cname);
	}
	if (read_resources(target, path, &r, err) < 0)
		return -1;
	bool cpu = strstr(res, "cpu") != NULL;
	json_t *d = get(ref, "divisor");
	if (d && get_quantity(d, path, true, &divisor, err) < 0)
		return -1;
	if (!strcmp(res, "limits.cpu"))
		value = r.cpu_limit_milli ? r.cpu_limit_milli : ps->opt->node_cpu_milli;
	else if (!strcmp(res, "requests.cpu"))
		value = r.cpu_request_milli;
	else if (!strcmp(res, "limits.memory"))
		value = r.memory_limit ? r.memory_limit : ps->opt->node_memory;
	else if (!strcmp(res, "requests.memory"))
		value = r.memory_request;
	else
		return field_err(err, path, "Unsupported value: \"%s\"", res);
	if (cpu) {
		divisor = divisor > 0 ? divisor : 1000;
	} else {
		divisor = divisor > 0 ? (divisor + 999) / 1000 : 1;
	}
	*out = sk_asprintf("%lld", (long long)((value + divisor - 1) / divisor));
	return 0;
}

static int env_value_from(struct ps *ps, json_t *item, json_t *cj, const char *ip, char **out,
			  sk_err *err)
{
	json_t *vf = get(item, "valueFrom");
	_cleanup_free_ char *vp = sk_asprintf("%s.valueFrom", ip);

	if (get(vf, "fieldRef")) {
		_cleanup_free_ char *p = sk_asprintf("%s.fieldRef.fieldPath", vp);
		return field_ref(ps, get(vf, "fieldRef"), p, out, err);
	}
	if (get(vf, "resourceFieldRef")) {
		_cleanup_free_ char *p = sk_asprintf("%s.resourceFieldRef", vp);
		return resource_ref(ps, get(vf, "resourceFieldRef"), cj, p, out, err);
	}
	return field_err(err, vp,
			 "only fieldRef and resourceFieldRef are supported by skiff for now");
}

/* Keep the last definition of each name, in the order names first appear
 * (getenv would find the first of duplicates). */
static char **env_dedup(char **env)
{
	char **outv = NULL;

	for (size_t i = 0; env && env[i]; i++) {
		size_t n = strcspn(env[i], "=");
		bool seen = false;
		for (size_t k = 0; outv && outv[k]; k++)
			if (!strncmp(outv[k], env[i], n) && outv[k][n] == '=')
				seen = true;
		if (seen)
			continue;
		const char *last = env_lookup(env, env[i], n);
		_cleanup_free_ char *kv = sk_asprintf("%.*s=%s", (int)n, env[i], last);
		outv = sk_strv_push(outv, kv);
	}
	return outv;
}

/* The container's environment as the kubelet builds it: the image's, then
 * the Services' variables (extra_env), then the container's own env, later
 * definitions winning; $(VAR) in values sees everything before it. */
static int read_env(struct ps *ps, json_t *cj, const char *path, char **image_env, char ***out,
		    sk_err *err)
{
	json_t *list, *item;
	char **env = NULL, **own = NULL;
	size_t i;
	int ret;
	_cleanup_free_ char *p = sk_asprintf("%s.env", path);

	list = get_array(cj, "env", p, err, &ret);
	if (ret < 0)
		return -1;
	for (size_t k = 0; ps->opt->extra_env && ps->opt->extra_env[k]; k++)
		own = sk_strv_push(own, ps->opt->extra_env[k]);
	json_array_foreach (list, i, item) {
		_cleanup_free_ char *ip = sk_asprintf("%s.env[%zu]", path, i);
		_cleanup_free_ char *np = sk_asprintf("%s.name", ip);
		_cleanup_free_ char *vp = sk_asprintf("%s.value", ip);
		_cleanup_free_ char *from = NULL;
		const char *name, *value;
		if (get_str(item, "name", np, true, &name, err) < 0 ||
		    get_str(item, "value", vp, false, &value, err) < 0 ||
		    (get(item, "valueFrom") && env_value_from(ps, item, cj, ip, &from, err) < 0)) {
			sk_strv_free(own);
			return -1;
		}
		if (from) {
			/* downward API values are taken as they are, never expanded */
			_cleanup_free_ char *kv = sk_asprintf("%s=%s", name, from);
			own = sk_strv_push(own, kv);
			continue;
		}
		_cleanup_free_ char *raw = sk_asprintf("%s=%s", name, value ? value : "");
		_cleanup_free_ char *x = expand(raw, own);
		own = sk_strv_push(own, x);
	}
	/* the image's variables first, the pod's after (and winning) */
	for (size_t k = 0; image_env && image_env[k]; k++) {
		size_t n = strcspn(image_env[k], "=");
		if (!env_lookup(own, image_env[k], n))
			env = sk_strv_push(env, image_env[k]);
	}
	for (size_t k = 0; own && own[k]; k++)
		env = sk_strv_push(env, own[k]);
	sk_strv_free(own);
	*out = env_dedup(env);
	sk_strv_free(env);
	return 0;
}

/* ---- containers ------------------------------------------------------------------- */

/* Kubernetes' command/args against the image's entrypoint/cmd. */
static int build_argv(json_t *cj, const char *path, const struct rt_image_config *ic,
		      struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *cp = sk_asprintf("%s.command", path);
	_cleanup_free_ char *ap = sk_asprintf("%s.args", path);
	_cleanup_strv_ char **command = NULL;
	_cleanup_strv_ char **args = NULL;
	bool has_cmd, has_args;
	char **argv = NULL;

	if (get_strv(cj, "command", cp, &command, &has_cmd, err) < 0 ||
	    get_strv(cj, "args", ap, &args, &has_args, err) < 0)
		return -1;
	char **first = has_cmd ? command : ic->entrypoint;
	char **second = has_args ? args : has_cmd ? NULL : ic->cmd;
	for (size_t i = 0; first && first[i]; i++) {
		_cleanup_free_ char *x = has_cmd ? expand(first[i], c->env) : sk_strdup(first[i]);
		argv = sk_strv_push(argv, x);
	}
	for (size_t i = 0; second && second[i]; i++) {
		_cleanup_free_ char *x =
			has_args ? expand(second[i], c->env) : sk_strdup(second[i]);
		argv = sk_strv_push(argv, x);
	}
	if (!argv || !argv[0])
		return field_err(err, cp,
				 "required (the image has neither an entrypoint nor a cmd)");
	c->argv = argv;
	return 0;
}

static int read_resource_list(json_t *list, const char *path, int64_t *cpu, int64_t *mem,
			      sk_err *err)
{
	json_t *v;

	if (list && !json_is_object(list))
		return field_err(err, path, "must be a map of resource names to quantities");
	if ((v = get(list, "cpu"))) {
		_cleanup_free_ char *p = sk_asprintf("%s.cpu", path);
		if (get_quantity(v, p, true, cpu, err) < 0)
			return -1;
	}
	if ((v = get(list, "memory"))) {
		_cleanup_free_ char *p = sk_asprintf("%s.memory", path);
		if (get_quantity(v, p, false, mem, err) < 0)
			return -1;
	}
	return 0;
}

static int read_resources(json_t *cj, const char *path, struct rt_resources *r, sk_err *err)
{
	json_t *res = get(cj, "resources");
	_cleanup_free_ char *rp = sk_asprintf("%s.resources", path);
	_cleanup_free_ char *lp = sk_asprintf("%s.limits", rp);
	_cleanup_free_ char *qp = sk_asprintf("%s.requests", rp);

	if (res && !json_is_object(res))
		return field_err(err, rp, "must be a map");
	if (read_resource_list(get(res, "limits"), lp, &r->cpu_limit_milli, &r->memory_limit, err) <
		    0 ||
	    read_resource_list(get(res, "requests"), qp, &r->cpu_request_milli, &r->memory_request,
			       err) < 0)
		return -1;
	/* the apiserver's defaulting: a request missing next to a limit is the limit */
	if (!get(get(res, "requests"), "cpu"))
		r->cpu_request_milli = r->cpu_limit_milli;
	if (!get(get(res, "requests"), "memory"))
		r->memory_request = r->memory_limit;
	if (r->cpu_limit_milli && r->cpu_request_milli > r->cpu_limit_milli)
		return field_err(err, qp, "cpu request must be less than or equal to cpu limit");
	if (r->memory_limit && r->memory_request > r->memory_limit)
		return field_err(err, qp,
				 "memory request must be less than or equal to memory limit");
	return 0;
}

static int read_caps(json_t *sc, const char *path, struct rt_container_config *c, sk_err *err)
{
	json_t *caps = get(sc, "capabilities");
	_cleanup_free_ char *cp = sk_asprintf("%s.capabilities", path);

	if (caps && !json_is_object(caps))
		return field_err(err, cp, "must be a map with add and drop");
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "add" : "drop";
		_cleanup_free_ char *p = sk_asprintf("%s.%s", cp, key);
		_cleanup_strv_ char **names = NULL;
		if (get_strv(caps, key, p, &names, NULL, err) < 0)
			return -1;
		for (size_t i = 0; names && names[i]; i++) {
			uint64_t m;
			if (rt_cap_from_name(names[i], &m, err) < 0)
				return sk_err_wrap(err, "%s[%zu]", p, i);
			*(k == 0 ? &c->cap_add : &c->cap_drop) |= m;
		}
	}
	return 0;
}

static int read_seccomp(json_t *sc, const char *path, enum rt_seccomp_profile *out, bool *set,
			sk_err *err)
{
	json_t *prof = get(sc, "seccompProfile");
	_cleanup_free_ char *p = sk_asprintf("%s.seccompProfile.type", path);
	const char *type;

	*set = false;
	if (!prof)
		return 0;
	if (get_str(prof, "type", p, true, &type, err) < 0)
		return -1;
	*set = true;
	if (!strcmp(type, "RuntimeDefault"))
		*out = RT_SECCOMP_RUNTIME_DEFAULT;
	else if (!strcmp(type, "Unconfined"))
		*out = RT_SECCOMP_UNCONFINED;
	else if (!strcmp(type, "Localhost"))
		return field_err(err, p, "Localhost profiles are not supported by skiff");
	else
		return field_err(err, p,
				 "Unsupported value: \"%s\": supported values: \"Localhost\", "
				 "\"RuntimeDefault\", \"Unconfined\"",
				 type);
	return 0;
}

/* runAsUser, runAsGroup, runAsNonRoot and seccompProfile of the pod's
 * securityContext, overridden by the container's. */
static int read_identity(struct ps *ps, json_t *csc, const char *cpath,
			 struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *pp = sk_strdup("spec.securityContext");
	bool set, nonroot = false, nr_set;
	enum rt_seccomp_profile prof = RT_SECCOMP_RUNTIME_DEFAULT;

	for (int level = 0; level < 2; level++) {
		json_t *sc = level == 0 ? ps->pod_sc : csc;
		const char *base = level == 0 ? pp : cpath;
		_cleanup_free_ char *up = sk_asprintf("%s.runAsUser", base);
		_cleanup_free_ char *gp = sk_asprintf("%s.runAsGroup", base);
		_cleanup_free_ char *np = sk_asprintf("%s.runAsNonRoot", base);
		if (get_int(sc, "runAsUser", up, 0, 2147483647, &c->uid, NULL, err) < 0 ||
		    get_int(sc, "runAsGroup", gp, 0, 2147483647, &c->gid, NULL, err) < 0 ||
		    get_bool(sc, "runAsNonRoot", np, &nonroot, &nr_set, err) < 0 ||
		    read_seccomp(sc, base, &prof, &set, err) < 0)
			return -1;
		(void)nr_set;
	}
	c->seccomp = prof;
	if (nonroot && c->uid <= 0) {
		_cleanup_free_ char *np = sk_asprintf("%s.runAsNonRoot", cpath);
		return field_err(err, np,
				 c->uid == 0 ? "container has runAsNonRoot and runAsUser is 0"
					     : "container has runAsNonRoot and image will run as "
					       "root (set runAsUser)");
	}
	return 0;
}

static int read_security(struct ps *ps, json_t *cj, const char *path, struct rt_container_config *c,
			 sk_err *err)
{
	json_t *sc = get(cj, "securityContext");
	_cleanup_free_ char *sp = sk_asprintf("%s.securityContext", path);
	_cleanup_free_ char *pp = sk_asprintf("%s.privileged", sp);
	_cleanup_free_ char *ap = sk_asprintf("%s.allowPrivilegeEscalation", sp);
	_cleanup_free_ char *rp = sk_asprintf("%s.readOnlyRootFilesystem", sp);
	bool ape = true, ape_set;

	if (sc && !json_is_object(sc))
		return field_err(err, sp, "must be a map");
	if (get_bool(sc, "privileged", pp, &c->privileged, NULL, err) < 0 ||
	    get_bool(sc, "allowPrivilegeEscalation", ap, &ape, &ape_set, err) < 0 ||
	    get_bool(sc, "readOnlyRootFilesystem", rp, &c->read_only_rootfs, NULL, err) < 0 ||
	    read_caps(sc, sp, c, err) < 0 || read_identity(ps, sc, sp, c, err) < 0)
		return -1;
	if (ape_set && !ape && c->privileged)
		return field_err(err, ap,
				 "Forbidden: cannot set `allowPrivilegeEscalation` to false and "
				 "`privileged` to true");
	if (ape_set && !ape && (c->cap_add & RT_CAP_BIT(CAP_SYS_ADMIN)))
		return field_err(err, ap,
				 "Forbidden: cannot set `allowPrivilegeEscalation` to false and "
				 "`capabilities.Add` CAP_SYS_ADMIN");
	c->no_new_privs = ape_set && !ape;
	/* the pod's supplementalGroups and fsGroup, as the kubelet adds them */
	json_t *groups = get(ps->pod_sc, "supplementalGroups"), *g;
	size_t i;
	json_array_foreach (groups, i, g) {
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) > 2147483647)
			return field_err(err, "spec.securityContext.supplementalGroups",
					 "item %zu must be a group id", i);
		c->supplemental_groups = sk_realloc(c->supplemental_groups,
						    (c->n_supplemental_groups + 1) * sizeof(gid_t));
		c->supplemental_groups[c->n_supplemental_groups++] = (gid_t)json_integer_value(g);
	}
	int64_t fs_group = -1;
	if (get_int(ps->pod_sc, "fsGroup", "spec.securityContext.fsGroup", 0, 2147483647, &fs_group,
		    NULL, err) < 0)
		return -1;
	if (fs_group >= 0) {
		c->supplemental_groups = sk_realloc(c->supplemental_groups,
						    (c->n_supplemental_groups + 1) * sizeof(gid_t));
		c->supplemental_groups[c->n_supplemental_groups++] = (gid_t)fs_group;
	}
	return 0;
}

static const struct vol_volume *find_volume(const struct agent_pod *p, const char *name)
{
	for (size_t i = 0; i < p->n_volumes; i++)
		if (!strcmp(p->volumes[i].name, name))
			return &p->volumes[i];
	return NULL;
}

static int read_mounts(struct ps *ps, json_t *cj, const char *path, struct rt_container_config *c,
		       sk_err *err)
{
	_cleanup_free_ char *lp = sk_asprintf("%s.volumeMounts", path);
	json_t *list, *m;
	size_t i;
	int ret;

	list = get_array(cj, "volumeMounts", lp, err, &ret);
	if (ret < 0)
		return -1;
	json_array_foreach (list, i, m) {
		_cleanup_free_ char *mp = sk_asprintf("%s[%zu]", lp, i);
		_cleanup_free_ char *np = sk_asprintf("%s.name", mp);
		_cleanup_free_ char *pp = sk_asprintf("%s.mountPath", mp);
		_cleanup_free_ char *sp = sk_asprintf("%s.subPath", mp);
		_cleanup_free_ char *rp = sk_asprintf("%s.readOnly", mp);
		_cleanup_free_ char *xp = sk_asprintf("%s.mountPropagation", mp);
		const char *name, *mount_path, *sub_path, *prop;
		bool ro = false;
		enum rt_propagation propagation = RT_PROPAGATION_NONE;
		if (get_str(m, "name", np, true, &name, err) < 0 ||
		    get_str(m, "mountPath", pp, true, &mount_path, err) < 0 ||
		    get_str(m, "subPath", sp, false, &sub_path, err) < 0 ||
		    get_bool(m, "readOnly", rp, &ro, NULL, err) < 0 ||
		    get_str(m, "mountPropagation", xp, false, &prop, err) < 0)
			return -1;
		const struct vol_volume *v = find_volume(ps->out, name);
		if (!v)
			return field_err(err, np, "Not found: \"%s\"", name);
		if (prop && !strcmp(prop, "HostToContainer"))
			propagation = RT_PROPAGATION_HOST_TO_CONTAINER;
		else if (prop && !strcmp(prop, "Bidirectional"))
			propagation = RT_PROPAGATION_BIDIRECTIONAL;
		else if (prop && strcmp(prop, "None"))
			return field_err(err, xp,
					 "Unsupported value: \"%s\": supported values: "
					 "\"Bidirectional\", \"HostToContainer\", \"None\"",
					 prop);
		if (propagation == RT_PROPAGATION_BIDIRECTIONAL && !c->privileged)
			return field_err(err, xp,
					 "Forbidden: Bidirectional mount propagation is available "
					 "only to privileged containers");
		for (size_t k = 0; k < c->n_mounts; k++)
			if (!strcmp(c->mounts[k].destination, mount_path))
				return field_err(err, pp, "Invalid value: \"%s\": must be unique",
						 mount_path);
		if (vol_add_mount(v, ps->out->cfg, c, mount_path, sub_path, ro, propagation, err) <
		    0)
			return sk_err_wrap(err, "%s", mp);
	}
	return 0;
}

static int resolve_image(struct ps *ps, const char *image, const char *path,
			 struct rt_container_config *c, struct rt_image *img, sk_err *err)
{
	const char *dir = ps->opt->image_dir ? ps->opt->image_dir : RT_IMAGE_DIR_DEFAULT;

	if (rt_image_inspect(dir, image, img, err) < 0)
		return sk_err_wrap(err, "%s.image", path);
	c->image = sk_strdup(image);
	c->rootfs = sk_strdup(img->rootfs);
	return 0;
}

static int read_container(struct ps *ps, json_t *cj, const char *path,
			  struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *np = sk_asprintf("%s.name", path);
	_cleanup_free_ char *ip = sk_asprintf("%s.image", path);
	_cleanup_free_ char *wp = sk_asprintf("%s.workingDir", path);
	const char *name, *image, *wd;
	struct rt_image img;
	int ret;

	if (!json_is_object(cj))
		return field_err(err, path, "must be a map");
	if (get_str(cj, "name", np, true, &name, err) < 0)
		return -1;
	if (!is_dns_label(name))
		return field_err(err, np, "Invalid value: \"%s\": %s", name, dns_label_rule);
	c->name = sk_strdup(name);
	if (get_str(cj, "image", ip, true, &image, err) < 0 ||
	    get_str(cj, "workingDir", wp, false, &wd, err) < 0)
		return -1;
	if (wd && wd[0] != '/')
		return field_err(err, wp, "Invalid value: \"%s\": must be an absolute path", wd);
	if (read_resources(cj, path, &c->resources, err) < 0 ||
	    resolve_image(ps, image, path, c, &img, err) < 0)
		return -1;
	ret = read_env(ps, cj, path, img.config.env, &c->env, err);
	if (ret == 0)
		ret = build_argv(cj, path, &img.config, c, err);
	if (ret == 0 && (wd || (img.config.workdir && img.config.workdir[0])))
		c->working_dir = sk_strdup(wd ? wd : img.config.workdir);
	rt_image_clear(&img);
	if (ret < 0 || read_security(ps, cj, path, c, err) < 0 ||
	    read_mounts(ps, cj, path, c, err) < 0)
		return -1;
	return 0;
}

static int read_containers(struct ps *ps, json_t *spec, const char *key, bool init, sk_err *err)
{
	_cleanup_free_ char *lp = sk_asprintf("spec.%s", key);
	json_t *list, *cj;
	size_t i;
	int ret;

	list = get_array(spec, key, lp, err, &ret);
	if (ret < 0)
		return -1;
	if (!init && (!list || json_array_size(list) == 0))
		return field_err(err, lp, "Required value");
	json_array_foreach (list, i, cj) {
		_cleanup_free_ char *cp = sk_asprintf("%s[%zu]", lp, i);
		struct rt_container_config *c = rt_pod_add_container(ps->out->cfg, init);
		if (read_container(ps, cj, cp, c, err) < 0)
			return -1;
	}
	return 0;
}

static int check_unique_containers(const struct rt_pod_config *cfg, sk_err *err)
{
	size_t n = cfg->n_init_containers + cfg->n_containers;

	for (size_t a = 0; a < n; a++) {
		const struct rt_container_config *ca =
			a < cfg->n_init_containers ? &cfg->init_containers[a]
						   : &cfg->containers[a - cfg->n_init_containers];
		for (size_t b = a + 1; b < n; b++) {
			const struct rt_container_config *cb =
				b < cfg->n_init_containers
					? &cfg->init_containers[b]
					: &cfg->containers[b - cfg->n_init_containers];
			if (!strcmp(ca->name, cb->name)) {
				_cleanup_free_ char *p =
					b < cfg->n_init_containers
						? sk_asprintf("spec.initContainers[%zu].name", b)
						: sk_asprintf("spec.containers[%zu].name",
							      b - cfg->n_init_containers);
				return field_err(err, p, "Duplicate value: \"%s\"", cb->name);
			}
		}
	}
	return 0;
}

/* ---- volumes -------------------------------------------------------------------- */

static int read_volume(json_t *vj, const char *path, struct vol_volume *v, sk_err *err)
{
	_cleanup_free_ char *np = sk_asprintf("%s.name", path);
	const char *name;
	json_t *ed, *hp;
	const char *known[] = {"name", "emptyDir", "hostPath", NULL};
	const char *key;
	json_t *val;

	if (!json_is_object(vj))
		return field_err(err, path, "must be a map");
	if (get_str(vj, "name", np, true, &name, err) < 0)
		return -1;
	if (!is_dns_label(name))
		return field_err(err, np, "Invalid value: \"%s\": %s", name, dns_label_rule);
	v->name = sk_strdup(name);
	json_object_foreach (vj, key, val) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok = ok || !strcmp(key, known[i]);
		if (!ok && !json_is_null(val))
			return field_err(err, path,
					 "volume type \"%s\" is not supported by skiff yet "
					 "(emptyDir and hostPath are)",
					 key);
	}
	ed = get(vj, "emptyDir");
	hp = get(vj, "hostPath");
	if (!!ed == !!hp)
		return field_err(err, path, "must specify exactly one of emptyDir and hostPath");
	if (ed) {
		_cleanup_free_ char *mp = sk_asprintf("%s.emptyDir.medium", path);
		_cleanup_free_ char *sp = sk_asprintf("%s.emptyDir.sizeLimit", path);
		const char *medium;
		json_t *limit = get(ed, "sizeLimit");
		v->kind = VOL_EMPTY_DIR;
		if (!json_is_object(ed))
			return field_err(err, path, "emptyDir must be a map");
		if (get_str(ed, "medium", mp, false, &medium, err) < 0)
			return -1;
		if (medium && strcmp(medium, "Memory"))
			return field_err(
				err, mp,
				"Unsupported value: \"%s\": supported values: \"\", \"Memory\"",
				medium);
		v->memory = medium != NULL;
		if (limit && get_quantity(limit, sp, false, &v->size_limit, err) < 0)
			return -1;
		return 0;
	}
	_cleanup_free_ char *pp = sk_asprintf("%s.hostPath.path", path);
	_cleanup_free_ char *tp = sk_asprintf("%s.hostPath.type", path);
	const char *hpath, *type;
	v->kind = VOL_HOST_PATH;
	if (get_str(hp, "path", pp, true, &hpath, err) < 0 ||
	    get_str(hp, "type", tp, false, &type, err) < 0)
		return -1;
	if (hpath[0] != '/')
		return field_err(err, pp, "Invalid value: \"%s\": must be an absolute path", hpath);
	v->path = sk_strdup(hpath);
	if (type && vol_host_path_type_parse(type, &v->type, err) < 0)
		return sk_err_wrap(err, "%s", tp);
	return 0;
}

static int read_volumes(struct ps *ps, json_t *spec, sk_err *err)
{
	json_t *list, *vj;
	size_t i;
	int ret;

	list = get_array(spec, "volumes", "spec.volumes", err, &ret);
	if (ret < 0)
		return -1;
	ps->out->volumes = sk_calloc(json_array_size(list) + 1, sizeof(struct vol_volume));
	json_array_foreach (list, i, vj) {
		_cleanup_free_ char *vp = sk_asprintf("spec.volumes[%zu]", i);
		struct vol_volume *v = &ps->out->volumes[ps->out->n_volumes++];
		if (read_volume(vj, vp, v, err) < 0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ps->out->volumes[k].name, v->name)) {
				_cleanup_free_ char *np = sk_asprintf("%s.name", vp);
				return field_err(err, np, "Duplicate value: \"%s\"", v->name);
			}
	}
	return 0;
}

/* ---- DNS ------------------------------------------------------------------------- */

struct resolv {
	char **nameservers, **searches, **options;
};

static void resolv_add(char ***list, const char *item, size_t max)
{
	for (size_t i = 0; *list && (*list)[i]; i++)
		if (!strcmp((*list)[i], item))
			return;
	if (sk_strv_len(*list) < max)
		*list = sk_strv_push(*list, item);
}

/* options merge by name ("ndots:5" replaces "ndots:1") */
static void resolv_option(struct resolv *r, const char *opt)
{
	size_t n = strcspn(opt, ":");

	for (size_t i = 0; r->options && r->options[i]; i++) {
		if (!strncmp(r->options[i], opt, n) &&
		    (r->options[i][n] == ':' || r->options[i][n] == '\0')) {
			free(r->options[i]);
			r->options[i] = sk_strdup(opt);
			return;
		}
	}
	r->options = sk_strv_push(r->options, opt);
}

static void resolv_parse(struct resolv *r, const char *text)
{
	_cleanup_free_ char *copy = sk_strdup(text);

	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *save2 = NULL, *key = strtok_r(line, " \t", &save2), *word;
		if (!key || key[0] == '#' || key[0] == ';')
			continue;
		while ((word = strtok_r(NULL, " \t", &save2))) {
			if (!strcmp(key, "nameserver"))
				resolv_add(&r->nameservers, word, 3);
			else if (!strcmp(key, "search"))
				resolv_add(&r->searches, word, 32);
			else if (!strcmp(key, "options"))
				resolv_option(r, word);
		}
	}
}

static char *resolv_text(const struct resolv *r)
{
	sk_buf b;

	sk_buf_init(&b);
	if (r->searches && r->searches[0]) {
		sk_buf_puts(&b, "search");
		for (size_t i = 0; r->searches[i]; i++)
			sk_buf_printf(&b, " %s", r->searches[i]);
		sk_buf_putc(&b, '\n');
	}
	for (size_t i = 0; r->nameservers && r->nameservers[i]; i++)
		sk_buf_printf(&b, "nameserver %s\n", r->nameservers[i]);
	if (r->options && r->options[0]) {
		sk_buf_puts(&b, "options");
		for (size_t i = 0; r->options[i]; i++)
			sk_buf_printf(&b, " %s", r->options[i]);
		sk_buf_putc(&b, '\n');
	}
	return sk_buf_steal(&b);
}

/* The kubelet's resolv.conf: the base by dnsPolicy (None: nothing;
 * ClusterFirst without a cluster DNS falls back to the node's), then
 * dnsConfig merged in. */
static int read_dns(struct ps *ps, json_t *spec, sk_err *err)
{
	const char *policy;
	json_t *conf = get(spec, "dnsConfig");
	struct resolv r = {0};
	int ret = 0;

	if (get_str(spec, "dnsPolicy", "spec.dnsPolicy", false, &policy, err) < 0)
		return -1;
	if (policy && strcmp(policy, "ClusterFirst") && strcmp(policy, "Default") &&
	    strcmp(policy, "None") && strcmp(policy, "ClusterFirstWithHostNet"))
		return field_err(err, "spec.dnsPolicy",
				 "Unsupported value: \"%s\": supported values: \"ClusterFirst\", "
				 "\"ClusterFirstWithHostNet\", \"Default\", \"None\"",
				 policy);
	bool none = policy && !strcmp(policy, "None");
	if (none && !conf)
		return field_err(
			err, "spec.dnsConfig",
			"Required value: must provide `dnsConfig` when `dnsPolicy` is None");
	if (!conf && !ps->opt->resolv_conf)
		return 0; /* the runtime copies the node's */
	if (!none) {
		_cleanup_free_ char *host = NULL;
		sk_err e;
		if (ps->opt->resolv_conf)
			resolv_parse(&r, ps->opt->resolv_conf);
		else if (sk_read_file("/etc/resolv.conf", 1 << 16, &host, NULL, &e) == 0)
			resolv_parse(&r, host);
	}
	_cleanup_strv_ char **ns = NULL;
	_cleanup_strv_ char **search = NULL;
	if (get_strv(conf, "nameservers", "spec.dnsConfig.nameservers", &ns, NULL, err) < 0 ||
	    get_strv(conf, "searches", "spec.dnsConfig.searches", &search, NULL, err) < 0)
		ret = -1;
	for (size_t i = 0; ret == 0 && ns && ns[i]; i++)
		resolv_add(&r.nameservers, ns[i], 3);
	for (size_t i = 0; ret == 0 && search && search[i]; i++)
		resolv_add(&r.searches, search[i], 32);
	json_t *opts = get(conf, "options"), *o;
	size_t i;
	json_array_foreach (opts, i, o) {
		const char *name = json_string_value(get(o, "name"));
		const char *value = json_string_value(get(o, "value"));
		if (ret < 0)
			break;
		if (!name) {
			_cleanup_free_ char *p = sk_asprintf("spec.dnsConfig.options[%zu].name", i);
			ret = field_err(err, p, "required");
			break;
		}
		_cleanup_free_ char *opt =
			value ? sk_asprintf("%s:%s", name, value) : sk_strdup(name);
		resolv_option(&r, opt);
	}
	if (ret == 0)
		ps->out->cfg->resolv_conf = resolv_text(&r);
	sk_strv_free(r.nameservers);
	sk_strv_free(r.searches);
	sk_strv_free(r.options);
	return ret;
}

/* ---- the pod ----------------------------------------------------------------------- */

static int read_metadata(struct ps *ps, json_t *pod, sk_err *err)
{
	json_t *meta = get(pod, "metadata");
	struct rt_pod_config *cfg = ps->out->cfg;
	const char *name, *gen, *ns, *uid;

	if (!meta || !json_is_object(meta))
		return field_err(err, "metadata", "Required value");
	if (get_str(meta, "name", "metadata.name", false, &name, err) < 0 ||
	    get_str(meta, "generateName", "metadata.generateName", false, &gen, err) < 0 ||
	    get_str(meta, "namespace", "metadata.namespace", false, &ns, err) < 0 ||
	    get_str(meta, "uid", "metadata.uid", false, &uid, err) < 0)
		return -1;
	if (!name && !gen)
		return field_err(err, "metadata.name",
				 "Required value: name or generateName is required");
	if (name) {
		cfg->name = sk_strdup(name);
	} else {
		char suffix[8];
		sk_random_alnum(suffix, 5);
		cfg->name = sk_asprintf("%s%s", gen, suffix);
	}
	if (!is_dns_subdomain(cfg->name))
		return field_err(err, "metadata.name", "Invalid value: \"%s\": %s", cfg->name,
				 dns_subdomain_rule);
	cfg->namespace = sk_strdup(ns ? ns : "default");
	if (!is_dns_label(cfg->namespace))
		return field_err(err, "metadata.namespace", "Invalid value: \"%s\": %s",
				 cfg->namespace, dns_label_rule);
	if (uid)
		cfg->uid = sk_strdup(uid);
	return 0;
}

static int read_host_aliases(struct ps *ps, json_t *spec, sk_err *err)
{
	json_t *list, *a;
	size_t i;
	int ret;

	list = get_array(spec, "hostAliases", "spec.hostAliases", err, &ret);
	if (ret < 0)
		return -1;
	json_array_foreach (list, i, a) {
		_cleanup_free_ char *ap = sk_asprintf("spec.hostAliases[%zu]", i);
		_cleanup_free_ char *ip_path = sk_asprintf("%s.ip", ap);
		_cleanup_free_ char *hp = sk_asprintf("%s.hostnames", ap);
		_cleanup_strv_ char **names = NULL;
		const char *ip;
		sk_buf line;
		if (get_str(a, "ip", ip_path, true, &ip, err) < 0 ||
		    get_strv(a, "hostnames", hp, &names, NULL, err) < 0)
			return -1;
		sk_buf_init(&line);
		sk_buf_puts(&line, ip);
		for (size_t k = 0; names && names[k]; k++)
			sk_buf_printf(&line, "\t%s", names[k]);
		ps->out->cfg->hosts_entries = sk_strv_push(ps->out->cfg->hosts_entries, line.data);
		sk_buf_free(&line);
	}
	return 0;
}

static int read_pod_settings(struct ps *ps, json_t *spec, sk_err *err)
{
	struct rt_pod_config *cfg = ps->out->cfg;
	const char *policy, *hostname, *subdomain;

	if (get_str(spec, "restartPolicy", "spec.restartPolicy", false, &policy, err) < 0)
		return -1;
	if (!policy || !strcmp(policy, "Always"))
		cfg->restart_policy = RT_RESTART_ALWAYS;
	else if (!strcmp(policy, "OnFailure"))
		cfg->restart_policy = RT_RESTART_ON_FAILURE;
	else if (!strcmp(policy, "Never"))
		cfg->restart_policy = RT_RESTART_NEVER;
	else
		return field_err(err, "spec.restartPolicy",
				 "Unsupported value: \"%s\": supported values: \"Always\", "
				 "\"OnFailure\", \"Never\"",
				 policy);
	if (get_int(spec, "terminationGracePeriodSeconds", "spec.terminationGracePeriodSeconds", 0,
		    INT32_MAX, &cfg->termination_grace_seconds, NULL, err) < 0 ||
	    get_bool(spec, "hostNetwork", "spec.hostNetwork", &cfg->host_network, NULL, err) < 0 ||
	    get_bool(spec, "hostIPC", "spec.hostIPC", &cfg->host_ipc, NULL, err) < 0 ||
	    get_bool(spec, "hostPID", "spec.hostPID", &cfg->host_pid, NULL, err) < 0 ||
	    get_str(spec, "hostname", "spec.hostname", false, &hostname, err) < 0 ||
	    get_str(spec, "subdomain", "spec.subdomain", false, &subdomain, err) < 0)
		return -1;
	if (hostname && !is_dns_label(hostname))
		return field_err(err, "spec.hostname", "Invalid value: \"%s\": %s", hostname,
				 dns_label_rule);
	if (hostname)
		cfg->hostname = sk_strdup(hostname);
	ps->pod_sc = get(spec, "securityContext");
	if (ps->pod_sc && !json_is_object(ps->pod_sc))
		return field_err(err, "spec.securityContext", "must be a map");
	return read_host_aliases(ps, spec, err);
}

static void set_dirs(struct rt_pod_config *cfg, const struct agent_pod_options *opt)
{
	if (opt->state_dir)
		cfg->state_dir = sk_strdup(opt->state_dir);
	if (opt->log_dir)
		cfg->log_dir = sk_strdup(opt->log_dir);
	if (opt->data_dir)
		cfg->data_dir = sk_strdup(opt->data_dir);
	if (opt->cgroup_root)
		cfg->cgroup_root = sk_strdup(opt->cgroup_root);
}

static int translate(struct ps *ps, json_t *pod, sk_err *err)
{
	json_t *spec;
	const char *kind;

	if (!json_is_object(pod))
		return sk_err_set(err, EINVAL, "a Pod must be a map");
	if (get_str(pod, "kind", "kind", false, &kind, err) < 0)
		return -1;
	if (kind && strcmp(kind, "Pod"))
		return field_err(err, "kind", "\"%s\" is not a Pod", kind);
	if (read_metadata(ps, pod, err) < 0)
		return -1;
	set_dirs(ps->out->cfg, ps->opt);
	spec = get(pod, "spec");
	if (!spec || !json_is_object(spec))
		return field_err(err, "spec", "Required value");
	if (read_pod_settings(ps, spec, err) < 0 || read_dns(ps, spec, err) < 0 ||
	    read_volumes(ps, spec, err) < 0 ||
	    read_containers(ps, spec, "initContainers", true, err) < 0 ||
	    read_containers(ps, spec, "containers", false, err) < 0)
		return -1;
	if (check_unique_containers(ps->out->cfg, err) < 0)
		return -1;
	return rt_pod_config_check(ps->out->cfg, err);
}

int agent_pod_from_json(json_t *pod, const struct agent_pod_options *opt, struct agent_pod *out,
			sk_err *err)
{
	static const struct agent_pod_options none;
	struct ps ps = {.opt = opt ? opt : &none, .pod = pod, .out = out, .pod_sc = NULL};

	memset(out, 0, sizeof(*out));
	out->cfg = rt_pod_config_new();
	if (translate(&ps, pod, err) < 0) {
		const char *name = out->cfg->name;
		if (name)
			sk_err_wrap(err, "pod \"%s\"", name);
		agent_pod_clear(out);
		return -1;
	}
	return 0;
}

int agent_pod_prepare_volumes(struct agent_pod *p, sk_err *err)
{
	for (size_t i = 0; i < p->n_volumes; i++)
		if (vol_prepare(&p->volumes[i], p->cfg, err) < 0)
			return sk_err_wrap(err, "pod \"%s\"", p->cfg->name);
	return 0;
}

void agent_pod_clear(struct agent_pod *p)
{
	rt_pod_config_free(p->cfg);
	for (size_t i = 0; i < p->n_volumes; i++)
		vol_volume_clear(&p->volumes[i]);
	free(p->volumes);
	memset(p, 0, sizeof(*p));
}
