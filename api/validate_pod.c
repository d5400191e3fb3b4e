/* Pod validation: ValidatePodSpec and what it calls (containers, ports,
 * env, volume mounts, resources, probes, volumes), the pod template, and
 * the rules for updating a Pod and its status, with the apiserver's
 * field paths and messages. */
#include "api_internal.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const PROTOCOLS[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const PULL_POLICIES[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const RESTART_POLICIES[] = {"Always", "OnFailure", "Never", NULL};
static const char *const DNS_POLICIES[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
					   "None", NULL};
static const char *const TERM_MSG_POLICIES[] = {"File", "FallbackToLogsOnError", NULL};
static const char *const HOST_PATH_TYPES[] = {
	"",	      "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
	"CharDevice", "BlockDevice",	   NULL};

bool api_is_ip(const char *s)
{
	unsigned char buf[16];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* ---- ports, env, mounts ---------------------------------------------------- */

static void validate_port_num_or_name(verr *v, json_t *p, const char *path)
{
	if (json_is_integer(p)) {
		const char *m = port_num_msg(json_integer_value(p));
		if (m)
			verr_invalid_int(v, path, json_integer_value(p), m);
	} else if (json_is_string(p)) {
		const char *m[NAME_MAX_MSGS];
		int n = port_name_msgs(json_string_value(p), m);
		for (int i = 0; i < n; i++)
			verr_invalid_str(v, path, json_string_value(p), m[i]);
	}
}

static void validate_container_ports(verr *v, json_t *ports, const char *path)
{
	json_t *names = json_object(), *p;
	size_t i;

	json_array_foreach (ports, i, p) {
		fpath ip = fp("%s[%zu]", path, i);
		const char *name = vstr(v, p, "name", ip.s);
		json_t *cp = vget_int(v, p, "containerPort", ip.s);
		json_t *hp = vget_int(v, p, "hostPort", ip.s);
		const char *proto = vstr(v, p, "protocol", ip.s);

		if (*name) {
			const char *m[NAME_MAX_MSGS];
			int n = port_name_msgs(name, m);
			for (int x = 0; x < n; x++)
				verr_invalid_str(v, fp("%s.name", ip.s).s, name, m[x]);
			if (!n && json_object_get(names, name))
				verr_duplicate_str(v, fp("%s.name", ip.s).s, name);
			else if (!n)
				json_object_set_new(names, name, json_true());
		}
		if (!cp || !json_integer_value(cp))
			verr_required(v, fp("%s.containerPort", ip.s).s, "");
		else if (port_num_msg(json_integer_value(cp)))
			verr_invalid_int(v, fp("%s.containerPort", ip.s).s, json_integer_value(cp),
					 port_num_msg(json_integer_value(cp)));
		if (hp && json_integer_value(hp) && port_num_msg(json_integer_value(hp)))
			verr_invalid_int(v, fp("%s.hostPort", ip.s).s, json_integer_value(hp),
					 port_num_msg(json_integer_value(hp)));
		if (!*proto)
			verr_required(v, fp("%s.protocol", ip.s).s, "");
		else if (!one_of(proto, PROTOCOLS))
			verr_not_supported(v, fp("%s.protocol", ip.s).s, proto, PROTOCOLS);
	}
	json_decref(names);
}

static void validate_env(verr *v, json_t *env, const char *path)
{
	static const char *const sources[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
					      "secretKeyRef"};
	json_t *e;
	size_t i;

	json_array_foreach (env, i, e) {
		fpath ip = fp("%s[%zu]", path, i);
		const char *name = vstr(v, e, "name", ip.s);
		const char *value = vstr(v, e, "value", ip.s);
		json_t *from = vget_obj(v, e, "valueFrom", ip.s);
		int nsrc = 0;

		if (!*name)
			verr_required(v, fp("%s.name", ip.s).s, "");
		for (const char *c = name; *c; c++) {
			if (*c < 32 || *c > 126 || *c == '=') {
				verr_invalid_str(
					v, fp("%s.name", ip.s).s, name,
					"a valid environment variable name must consist only "
					"of printable ASCII characters other than '='");
				break;
			}
		}
		if (!from)
			continue;
		for (size_t s = 0; s < SK_ARRAY_SIZE(sources); s++) {
			json_t *src = vget_obj(v, from, sources[s], fp("%s.valueFrom", ip.s).s);
			if (!src)
				continue;
			nsrc++;
			if ((s == 2 || s == 3) && !*vstr(v, src, "key", ""))
				verr_required(v, fp("%s.valueFrom.%s.key", ip.s, sources[s]).s, "");
			if (s == 0 && !*vstr(v, src, "fieldPath", ""))
				verr_required(v, fp("%s.valueFrom.fieldRef.fieldPath", ip.s).s, "");
			if (s == 1 && !*vstr(v, src, "resource", ""))
				verr_required(v,
					      fp("%s.valueFrom.resourceFieldRef.resource", ip.s).s,
					      "");
		}
		if (*value)
			verr_invalid_str(v, fp("%s.valueFrom", ip.s).s, "",
					 "may not be specified when `value` is not empty");
		else if (nsrc == 0)
			verr_invalid_str(v, fp("%s.valueFrom", ip.s).s, "",
					 "must specify one of: `fieldRef`, `resourceFieldRef`, "
					 "`configMapKeyRef` or `secretKeyRef`");
		else if (nsrc > 1)
			verr_invalid_str(v, fp("%s.valueFrom", ip.s).s, "",
					 "may not have more than one field specified at a time");
	}
}

/* validateLocalDescendingPath: relative, without "..". */
static void validate_local_path(verr *v, const char *p, const char *path)
{
	if (p[0] == '/')
		verr_invalid_str(v, path, p, "must be a relative path");
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == 0 || s[2] == '/';
		if (start && end) {
			verr_invalid_str(v, path, p, "must not contain '..'");
			break;
		}
	}
}

static void validate_mounts(verr *v, json_t *mounts, json_t *volnames, const char *path)
{
	json_t *seen = json_object(), *m;
	size_t i;

	json_array_foreach (mounts, i, m) {
		fpath ip = fp("%s[%zu]", path, i);
		const char *name = vstr(v, m, "name", ip.s);
		const char *mp = vstr(v, m, "mountPath", ip.s);
		const char *sub = vstr(v, m, "subPath", ip.s);

		if (!*name)
			verr_required(v, fp("%s.name", ip.s).s, "");
		if (!json_object_get(volnames, name))
			verr_not_found_str(v, fp("%s.name", ip.s).s, name);
		if (!*mp)
			verr_required(v, fp("%s.mountPath", ip.s).s, "");
		if (json_object_get(seen, mp))
			verr_invalid_str(v, fp("%s.mountPath", ip.s).s, mp, "must be unique");
		json_object_set_new(seen, mp, json_true());
		if (*sub)
			validate_local_path(v, sub, fp("%s.subPath", path).s);
	}
	json_decref(seen);
}

/* ---- resources ------------------------------------------------------------ */

static bool standard_container_resource(const char *name)
{
	return !strcmp(name, "cpu") || !strcmp(name, "memory") ||
	       !strcmp(name, "ephemeral-storage") || sk_startswith(name, "hugepages-");
}

static void validate_resource_name(verr *v, const char *name, const char *path)
{
	const char *m[NAME_MAX_MSGS];
	int n = names_qualified_name(name, m);

	for (int i = 0; i < n; i++)
		verr_invalid_str(v, path, name, m[i]);
	if (!n && !strchr(name, '/') && !standard_container_resource(name))
		verr_invalid_str(v, path, name, "must be a standard resource for containers");
}

/* A quantity as Kubernetes prints it in these messages (its String()). */
static char *quantity_text(json_t *q)
{
	if (json_is_string(q))
		return sk_strdup(json_string_value(q));
	return api_json_go_string(q);
}

static void validate_resources(verr *v, json_t *res, const char *path)
{
	json_t *lim = vget_obj(v, res, "limits", path), *req = vget_obj(v, res, "requests", path);
	const char *key;
	json_t *q;

	json_object_foreach (lim, key, q) {
		fpath p = fp("%s.limits[%s]", path, key);
		validate_resource_name(v, key, p.s);
		validate_quantity(v, q, p.s, NULL);
	}
	json_object_foreach (req, key, q) {
		fpath p = fp("%s.requests[%s]", path, key);
		json_t *l = json_object_get(lim, key);
		int64_t rm, lm;

		validate_resource_name(v, key, p.s);
		if (!validate_quantity(v, q, p.s, &rm) || !l ||
		    api_quantity_json_milli(l, &lm, NULL) < 0)
			continue;
		_cleanup_free_ char *qs = quantity_text(q), *ls = quantity_text(l);
		_cleanup_free_ char *d = NULL;
		bool overcommit = strcmp(key, "cpu") == 0 || strcmp(key, "memory") == 0 ||
				  strcmp(key, "ephemeral-storage") == 0;
		if (rm != lm && !overcommit)
			d = sk_asprintf("must be equal to %s limit of %s", key, ls);
		else if (rm > lm)
			d = sk_asprintf("must be less than or equal to %s limit of %s", key, ls);
		if (d)
			verr_invalid_str(v, fp("%s.requests", path).s, qs, d);
	}
}

/* ---- probes and handlers ---------------------------------------------------- */

static void validate_handler(verr *v, json_t *h, const char *path, bool probe)
{
	static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "grpc", "sleep"};
	int n = 0;

	for (size_t i = 0; i < SK_ARRAY_SIZE(kinds); i++) {
		json_t *x = vget_obj(v, h, kinds[i], path);
		if (!x || (probe && i == 4) || (!probe && i == 3))
			continue;
		if (n++) {
			verr_forbidden(v, fp("%s.%s", path, kinds[i]).s,
				       "may not specify more than 1 handler type");
			continue;
		}
		if (i == 0 && !json_array_size(vget_arr(v, x, "command", fp("%s.exec", path).s)))
			verr_required(v, fp("%s.exec.command", path).s, "");
		if (i == 1) {
			static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
			const char *scheme = vstr(v, x, "scheme", "");
			if (!*vstr(v, x, "path", ""))
				verr_required(v, fp("%s.httpGet.path", path).s, "");
			validate_port_num_or_name(
				v, vget_intstr(v, x, "port", fp("%s.httpGet", path).s),
				fp("%s.httpGet.port", path).s);
			if (*scheme && !one_of(scheme, schemes))
				verr_not_supported(v, fp("%s.httpGet.scheme", path).s, scheme,
						   schemes);
		}
		if (i == 2)
			validate_port_num_or_name(
				v, vget_intstr(v, x, "port", fp("%s.tcpSocket", path).s),
				fp("%s.tcpSocket.port", path).s);
	}
	if (n == 0)
		verr_required(v, path, "must specify a handler type");
}

static void validate_probe(verr *v, json_t *p, const char *path, bool success_must_be_one)
{
	static const char *const nums[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
					   "successThreshold", "failureThreshold"};
	json_t *st, *tg;

	if (!p)
		return;
	validate_handler(v, p, path, true);
	for (size_t i = 0; i < SK_ARRAY_SIZE(nums); i++)
		validate_nonnegative(v, vget_int(v, p, nums[i], path),
				     fp("%s.%s", path, nums[i]).s);
	st = vget_int(v, p, "successThreshold", path);
	if (success_must_be_one && st && json_integer_value(st) != 1)
		verr_invalid_int(v, fp("%s.successThreshold", path).s, json_integer_value(st),
				 "must be 1");
	tg = vget_int(v, p, "terminationGracePeriodSeconds", path);
	if (tg && json_integer_value(tg) <= 0)
		verr_invalid_int(v, fp("%s.terminationGracePeriodSeconds", path).s,
				 json_integer_value(tg), "must be greater than 0");
}

static void validate_security_context(verr *v, json_t *sc, const char *path)
{
	static const char *const ids[] = {"runAsUser", "runAsGroup"};
	json_t *priv, *esc;

	if (!sc)
		return;
	for (size_t i = 0; i < 2; i++) {
		json_t *id = vget_int(v, sc, ids[i], path);
		if (id && (json_integer_value(id) < 0 || json_integer_value(id) > 2147483647))
			verr_invalid_int(v, fp("%s.%s", path, ids[i]).s, json_integer_value(id),
					 "must be between 0 and 2147483647, inclusive");
	}
	priv = vget_bool(v, sc, "privileged", path);
	esc = vget_bool(v, sc, "allowPrivilegeEscalation", path);
	if (json_is_true(priv) && json_is_false(esc))
		verr_invalid_str(
			v, path, "",
			"cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
}

/* ---- containers ------------------------------------------------------------- */

static void validate_container(verr *v, json_t *c, json_t *volnames, const char *path, bool init)
{
	const char *name = vstr(v, c, "name", path);
	const char *tmp = vstr(v, c, "terminationMessagePolicy", path);
	const char *pull = vstr(v, c, "imagePullPolicy", path);
	const char *restart = vstr(v, c, "restartPolicy", path);
	bool sidecar = init && !strcmp(restart, "Always");
	static const char *const always[] = {"Always", NULL};

	if (!*name)
		verr_required(v, fp("%s.name", path).s, "");
	else
		validate_dns1123_label(v, name, fp("%s.name", path).s);
	if (!*vstr(v, c, "image", path))
		verr_required(v, fp("%s.image", path).s, "");
	if (!*tmp)
		verr_required(v, fp("%s.terminationMessagePolicy", path).s,
			      "must be 'File' or 'FallbackToLogsOnError'");
	else if (!one_of(tmp, TERM_MSG_POLICIES))
		verr_not_supported(v, fp("%s.terminationMessagePolicy", path).s, tmp,
				   TERM_MSG_POLICIES);
	validate_container_ports(v, vget_arr(v, c, "ports", path), fp("%s.ports", path).s);
	validate_env(v, vget_arr(v, c, "env", path), fp("%s.env", path).s);
	vget_arr(v, c, "envFrom", path);
	vget_arr(v, c, "command", path);
	vget_arr(v, c, "args", path);
	validate_mounts(v, vget_arr(v, c, "volumeMounts", path), volnames,
			fp("%s.volumeMounts", path).s);
	if (!*pull)
		verr_required(v, fp("%s.imagePullPolicy", path).s, "");
	else if (!one_of(pull, PULL_POLICIES))
		verr_not_supported(v, fp("%s.imagePullPolicy", path).s, pull, PULL_POLICIES);
	validate_resources(v, vget_obj(v, c, "resources", path), fp("%s.resources", path).s);
	validate_security_context(v, vget_obj(v, c, "securityContext", path),
				  fp("%s.securityContext", path).s);
	if (init && !sidecar) {
		static const char *const forbidden[] = {"lifecycle", "livenessProbe",
							"readinessProbe", "startupProbe"};
		for (size_t i = 0; i < SK_ARRAY_SIZE(forbidden); i++)
			if (json_object_get(c, forbidden[i]))
				verr_forbidden(v, fp("%s.%s", path, forbidden[i]).s,
					       "may not be set for init containers without "
					       "restartPolicy=Always");
		if (*restart)
			verr_not_supported(v, fp("%s.restartPolicy", path).s, restart, always);
		return;
	}
	if (!init && *restart)
		verr_forbidden(v, fp("%s.restartPolicy", path).s,
			       "may not be set for non-init containers");
	validate_probe(v, vget_obj(v, c, "livenessProbe", path), fp("%s.livenessProbe", path).s,
		       true);
	validate_probe(v, vget_obj(v, c, "readinessProbe", path), fp("%s.readinessProbe", path).s,
		       false);
	validate_probe(v, vget_obj(v, c, "startupProbe", path), fp("%s.startupProbe", path).s,
		       true);
	{
		json_t *lc = vget_obj(v, c, "lifecycle", path);
		json_t *ps = vget_obj(v, lc, "postStart", fp("%s.lifecycle", path).s);
		json_t *pr = vget_obj(v, lc, "preStop", fp("%s.lifecycle", path).s);
		if (ps)
			validate_handler(v, ps, fp("%s.lifecycle.postStart", path).s, false);
		if (pr)
			validate_handler(v, pr, fp("%s.lifecycle.preStop", path).s, false);
	}
}

/* checkHostPortConflicts: one protocol/hostIP/hostPort per pod. */
static void host_port_conflicts(verr *v, json_t *containers, json_t *seen, const char *path)
{
	json_t *c, *p;
	size_t i, j;

	json_array_foreach (containers, i, c) {
		json_array_foreach (json_object_get(c, "ports"), j, p) {
			int64_t hp = api_get_int(p, "hostPort", 0);
			_cleanup_free_ char *key = NULL;
			if (!hp)
				continue;
			key = sk_asprintf("%s/%s/%lld",
					  api_get_str(p, "protocol") ? api_get_str(p, "protocol")
								     : "",
					  api_get_str(p, "hostIP") ? api_get_str(p, "hostIP") : "",
					  (long long)hp);
			if (json_object_get(seen, key))
				verr_duplicate_str(
					v, fp("%s[%zu].ports[%zu].hostPort", path, i, j).s, key);
			else
				json_object_set_new(seen, key, json_true());
		}
	}
}

static void validate_containers(verr *v, json_t *spec, json_t *volnames, const char *path)
{
	json_t *names = json_object(), *ports = json_object(), *c;
	json_t *cs = vget_arr(v, spec, "containers", path);
	json_t *ics = vget_arr(v, spec, "initContainers", path);
	size_t i;

	if (!json_array_size(cs))
		verr_required(v, fp("%s.containers", path).s, "");
	json_array_foreach (cs, i, c) {
		fpath p = fp("%s.containers[%zu]", path, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!json_is_object(c)) {
			verr_type(v, p.s, c, "object");
			continue;
		}
		validate_container(v, c, volnames, p.s, false);
		if (name && json_object_get(names, name))
			verr_duplicate_str(v, fp("%s.name", p.s).s, name);
		else if (name)
			json_object_set_new(names, name, json_true());
	}
	json_array_foreach (ics, i, c) {
		fpath p = fp("%s.initContainers[%zu]", path, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!json_is_object(c)) {
			verr_type(v, p.s, c, "object");
			continue;
		}
		validate_container(v, c, volnames, p.s, true);
		if (name && json_object_get(names, name))
			verr_duplicate_str(v, fp("%s.name", p.s).s, name);
		else if (name)
			json_object_set_new(names, name, json_true());
	}
	host_port_conflicts(v, cs, ports, fp("%s.containers", path).s);
	host_port_conflicts(v, ics, ports, fp("%s.initContainers", path).s);
	json_decref(names);
	json_decref(ports);
}

/* ---- volumes --------------------------------------------------------------- */

void validate_volume_source_count(verr *v, json_t *src, const char *path,
				  const char *const *sources)
{
	int n = 0;

	for (const char *const *s = sources; *s; s++) {
		json_t *x = json_object_get(src, *s);
		if (!x || json_is_null(x))
			continue;
		if (n++)
			verr_forbidden(v, fp("%s.%s", path, *s).s,
				       "may not specify more than 1 volume type");
	}
	if (n == 0)
		verr_required(v, path, "must specify a volume type");
}

static void validate_mode(verr *v, json_t *m, const char *path)
{
	if (json_is_integer(m) && (json_integer_value(m) < 0 || json_integer_value(m) > 0777))
		verr_invalid_int(v, path, json_integer_value(m),
				 "must be a number between 0 and 0777 (octal), both inclusive");
}

static void validate_volume(verr *v, json_t *vol, const char *path)
{
	json_t *x;
	fpath p;

	validate_volume_source_count(v, vol, path, api_internal_volume_sources());
	if ((x = vget_obj(v, vol, "hostPath", path))) {
		const char *hp = vstr(v, x, "path", (p = fp("%s.hostPath", path)).s);
		json_t *type = vget_str(v, x, "type", p.s);
		if (!*hp)
			verr_required(v, fp("%s.path", p.s).s, "");
		else if (strstr(hp, ".."))
			validate_local_path(v, hp + (hp[0] == '/'), fp("%s.path", p.s).s);
		if (type && !one_of(json_string_value(type), HOST_PATH_TYPES))
			verr_not_supported(v, fp("%s.type", p.s).s, json_string_value(type),
					   HOST_PATH_TYPES);
	}
	if ((x = vget_obj(v, vol, "emptyDir", path))) {
		json_t *sl = json_object_get(x, "sizeLimit");
		if (sl)
			validate_quantity(v, sl, fp("%s.emptyDir.sizeLimit", path).s, NULL);
	}
	if ((x = vget_obj(v, vol, "gitRepo", path))) {
		p = fp("%s.gitRepo", path);
		if (!*vstr(v, x, "repository", p.s))
			verr_required(v, fp("%s.repository", p.s).s, "");
		if (*vstr(v, x, "directory", p.s))
			validate_local_path(v, vstr(v, x, "directory", p.s),
					    fp("%s.directory", p.s).s);
	}
	if ((x = vget_obj(v, vol, "secret", path))) {
		p = fp("%s.secret", path);
		if (!*vstr(v, x, "secretName", p.s))
			verr_required(v, fp("%s.secretName", p.s).s, "");
		validate_mode(v, vget_int(v, x, "defaultMode", p.s), fp("%s.defaultMode", p.s).s);
	}
	if ((x = vget_obj(v, vol, "configMap", path))) {
		p = fp("%s.configMap", path);
		if (!*vstr(v, x, "name", p.s))
			verr_required(v, fp("%s.name", p.s).s, "");
		else
			validate_dns1123_subdomain(v, vstr(v, x, "name", p.s),
						   fp("%s.name", p.s).s);
		validate_mode(v, vget_int(v, x, "defaultMode", p.s), fp("%s.defaultMode", p.s).s);
	}
	if ((x = vget_obj(v, vol, "persistentVolumeClaim", path))) {
		p = fp("%s.persistentVolumeClaim", path);
		if (!*vstr(v, x, "claimName", p.s))
			verr_required(v, fp("%s.claimName", p.s).s, "");
	}
	if ((x = vget_obj(v, vol, "nfs", path))) {
		p = fp("%s.nfs", path);
		const char *np = vstr(v, x, "path", p.s);
		if (!*vstr(v, x, "server", p.s))
			verr_required(v, fp("%s.server", p.s).s, "");
		if (!*np)
			verr_required(v, fp("%s.path", p.s).s, "");
		else if (np[0] != '/')
			verr_invalid_str(v, fp("%s.path", p.s).s, np, "must be an absolute path");
	}
}

/* Volumes; their names go into volnames for the mounts to refer to. */
static void validate_volumes(verr *v, json_t *vols, json_t *volnames, const char *path)
{
	json_t *vol;
	size_t i;

	json_array_foreach (vols, i, vol) {
		fpath p = fp("%s[%zu]", path, i);
		const char *name = vstr(v, vol, "name", p.s);
		if (!json_is_object(vol)) {
			verr_type(v, p.s, vol, "object");
			continue;
		}
		validate_volume(v, vol, p.s);
		if (!*name)
			verr_required(v, fp("%s.name", p.s).s, "");
		else
			validate_dns1123_label(v, name, fp("%s.name", p.s).s);
		if (json_object_get(volnames, name))
			verr_duplicate_str(v, fp("%s.name", p.s).s, name);
		json_object_set_new(volnames, name, json_true());
	}
}

/* ---- the pod spec -------------------------------------------------------------- */

static void validate_tolerations(verr *v, json_t *tols, const char *path)
{
	static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
	static const char *const ops[] = {"Equal", "Exists", NULL};
	json_t *t;
	size_t i;

	json_array_foreach (tols, i, t) {
		fpath p = fp("%s[%zu]", path, i);
		const char *key = vstr(v, t, "key", p.s), *op = vstr(v, t, "operator", p.s);
		const char *eff = vstr(v, t, "effect", p.s), *val = vstr(v, t, "value", p.s);
		if (*key)
			validate_qualified_name(v, key, fp("%s.key", p.s).s);
		if (!*key && *op && strcmp(op, "Exists"))
			verr_invalid_str(v, fp("%s.operator", p.s).s, op,
					 "operator must be Exists when `key` is empty, which means "
					 "\"match all values and all keys\"");
		if (json_object_get(t, "tolerationSeconds") && strcmp(eff, "NoExecute"))
			verr_invalid_str(
				v, fp("%s.effect", p.s).s, eff,
				"effect must be 'NoExecute' when `tolerationSeconds` is set");
		if (*op && !one_of(op, ops))
			verr_not_supported(v, fp("%s.operator", p.s).s, op, ops);
		if (!strcmp(op, "Exists") && *val)
			verr_invalid_str(v, fp("%s.operator", p.s).s, val,
					 "value must be empty when `operator` is 'Exists'");
		if (*eff && !one_of(eff, effects))
			verr_not_supported(v, fp("%s.effect", p.s).s, eff, effects);
	}
}

void validate_pod_spec(verr *v, json_t *spec, const char *path)
{
	json_t *volnames = json_object(), *ads;
	const char *rp = vstr(v, spec, "restartPolicy", path);
	const char *dns = vstr(v, spec, "dnsPolicy", path);
	const char *node = vstr(v, spec, "nodeName", path);
	const char *sa = vstr(v, spec, "serviceAccountName", path);

	validate_volumes(v, vget_arr(v, spec, "volumes", path), volnames, fp("%s.volumes", path).s);
	validate_containers(v, spec, volnames, path);
	if (!*rp)
		verr_required(v, fp("%s.restartPolicy", path).s, "");
	else if (!one_of(rp, RESTART_POLICIES))
		verr_not_supported(v, fp("%s.restartPolicy", path).s, rp, RESTART_POLICIES);
	if (!*dns)
		verr_required(v, fp("%s.dnsPolicy", path).s, "");
	else if (!one_of(dns, DNS_POLICIES))
		verr_not_supported(v, fp("%s.dnsPolicy", path).s, dns, DNS_POLICIES);
	validate_labels(v, vget_obj(v, spec, "nodeSelector", path), fp("%s.nodeSelector", path).s);
	validate_security_context(v, vget_obj(v, spec, "securityContext", path),
				  fp("%s.securityContext", path).s);
	if (*sa)
		validate_dns1123_subdomain(v, sa, fp("%s.serviceAccountName", path).s);
	if (*node)
		validate_dns1123_subdomain(v, node, fp("%s.nodeName", path).s);
	ads = vget_int(v, spec, "activeDeadlineSeconds", path);
	if (ads && (json_integer_value(ads) < 1 || json_integer_value(ads) > 2147483647))
		verr_invalid_int(v, fp("%s.activeDeadlineSeconds", path).s, json_integer_value(ads),
				 "must be between 1 and 2147483647, inclusive");
	validate_nonnegative(v, vget_int(v, spec, "terminationGracePeriodSeconds", path),
			     fp("%s.terminationGracePeriodSeconds", path).s);
	if (*vstr(v, spec, "hostname", path))
		validate_dns1123_label(v, vstr(v, spec, "hostname", path),
				       fp("%s.hostname", path).s);
	if (*vstr(v, spec, "subdomain", path))
		validate_dns1123_label(v, vstr(v, spec, "subdomain", path),
				       fp("%s.subdomain", path).s);
	validate_tolerations(v, vget_arr(v, spec, "tolerations", path),
			     fp("%s.tolerations", path).s);
	vget_bool(v, spec, "hostNetwork", path);
	vget_bool(v, spec, "hostPID", path);
	vget_bool(v, spec, "hostIPC", path);
	json_decref(volnames);
}

void validate_pod_template(verr *v, json_t *tmpl, const char *path)
{
	json_t *meta = vget_obj(v, tmpl, "metadata", path);
	fpath mp = fp("%s.metadata", path);
	json_t *spec = vget_obj(v, tmpl, "spec", path);
	json_t *empty = json_object();

	/* ValidatePodTemplateSpec reports template labels at
	 * <path>.labels, without "metadata". */
	validate_labels(v, vget_obj(v, meta, "labels", mp.s), fp("%s.labels", path).s);
	vget_obj(v, meta, "annotations", mp.s);
	validate_pod_spec(v, spec ? spec : empty, fp("%s.spec", path).s);
	json_decref(empty);
}

/* ---- Pods ---------------------------------------------------------------------- */

#define UPDATABLE_POD_FIELDS                                                                      \
	"`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`," \
	"`spec.tolerations` (only additions to existing tolerations),"                            \
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "     \
	"negative)"

static bool toleration_kept(json_t *old_t, json_t *new_tols)
{
	json_t *t;
	size_t i;

	json_array_foreach (new_tols, i, t) {
		json_t *a = json_deep_copy(old_t), *b = json_deep_copy(t);
		bool eq;
		json_object_del(a, "tolerationSeconds");
		json_object_del(b, "tolerationSeconds");
		eq = json_equal(a, b);
		json_decref(a);
		json_decref(b);
		if (eq)
			return true;
	}
	return false;
}

/* Copy the updatable fields of old into a copy of the new spec, so what
 * remains different is what may not change. */
static json_t *munge_spec(json_t *spec, json_t *ospec)
{
	static const char *const lists[] = {"containers", "initContainers"};
	json_t *m = json_deep_copy(spec);
	json_t *c;
	size_t i;

	for (size_t l = 0; l < 2; l++) {
		json_t *olist = json_object_get(ospec, lists[l]);
		json_array_foreach (json_object_get(m, lists[l]), i, c) {
			json_t *oc = json_array_get(olist, i);
			if (json_is_object(c) && json_object_get(oc, "image"))
				json_object_set(c, "image", json_object_get(oc, "image"));
		}
	}
	if (json_object_get(ospec, "activeDeadlineSeconds"))
		json_object_set(m, "activeDeadlineSeconds",
				json_object_get(ospec, "activeDeadlineSeconds"));
	else
		json_object_del(m, "activeDeadlineSeconds");
	if (json_object_get(ospec, "tolerations"))
		json_object_set(m, "tolerations", json_object_get(ospec, "tolerations"));
	else
		json_object_del(m, "tolerations");
	if (api_get_int(ospec, "terminationGracePeriodSeconds", 0) < 0 &&
	    api_get_int(m, "terminationGracePeriodSeconds", 0) == 1)
		json_object_set(m, "terminationGracePeriodSeconds",
				json_object_get(ospec, "terminationGracePeriodSeconds"));
	return m;
}

/* A short account of what differs, in place of Go's cmp.Diff. */
static char *spec_diff(json_t *a, json_t *b)
{
	sk_buf out = {0};
	const char *key;
	json_t *v;

	json_object_foreach (a, key, v) {
		json_t *w = json_object_get(b, key);
		if (!w || !json_equal(v, w)) {
			_cleanup_free_ char *x = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			_cleanup_free_ char *y =
				w ? json_dumps(w, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			sk_buf_printf(&out, "  spec.%s: %.200s -> %.200s\n", key, x,
				      y ? y : "(absent)");
		}
	}
	json_object_foreach (b, key, v)
		if (!json_object_get(a, key)) {
			_cleanup_free_ char *y = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			sk_buf_printf(&out, "  spec.%s: (absent) -> %.200s\n", key, y);
		}
	return sk_buf_steal(&out);
}

static void validate_pod_update(verr *v, json_t *pod, json_t *old)
{
	json_t *spec = api_get(pod, "spec"), *ospec = api_get(old, "spec"), *t, *munged;
	static const char *const lists[] = {"containers", "initContainers"};
	size_t i;

	for (size_t l = 0; l < 2; l++) {
		json_t *a = json_object_get(spec, lists[l]), *b = json_object_get(ospec, lists[l]),
		       *c;
		if (json_array_size(a) != json_array_size(b)) {
			verr_forbidden(v, fp("spec.%s", lists[l]).s,
				       "pod updates may not add or remove containers");
			return;
		}
		json_array_foreach (a, i, c) {
			const char *img = api_get_str(c, "image");
			size_t n = img ? strlen(img) : 0;
			if (img && n && (img[0] == ' ' || img[n - 1] == ' '))
				verr_invalid_str(v, fp("spec.%s[%zu].image", lists[l], i).s, img,
						 "must not have leading or trailing whitespace");
		}
	}
	json_array_foreach (json_object_get(ospec, "tolerations"), i, t)
		if (!toleration_kept(t, json_object_get(spec, "tolerations")))
			verr_forbidden(v, fp("spec.tolerations[%zu]", i).s,
				       "existing toleration can not be modified except its "
				       "tolerationSeconds");
	if (json_equal(spec, ospec))
		return;
	munged = munge_spec(spec, ospec);
	if (!json_equal(munged, ospec)) {
		_cleanup_free_ char *diff = spec_diff(ospec, munged);
		_cleanup_free_ char *d =
			sk_asprintf("pod updates may not change fields other than %s\n%s",
				    UPDATABLE_POD_FIELDS, diff);
		verr_forbidden(v, "spec", d);
	}
	json_decref(munged);
}

void validate_pod(verr *v, json_t *pod, json_t *old)
{
	json_t *spec = vget_obj(v, pod, "spec", "");

	if (!spec) {
		verr_required(v, "spec.containers", "");
		return;
	}
	validate_pod_spec(v, spec, "spec");
	if (!old) {
		if (json_array_size(json_object_get(spec, "ephemeralContainers")))
			verr_forbidden(v, "spec.ephemeralContainers", "cannot be set on create");
		if (*vstr(v, spec, "nodeName", "spec") &&
		    json_array_size(json_object_get(spec, "schedulingGates")))
			verr_forbidden(v, "spec.nodeName",
				       "cannot be set until all schedulingGates have been cleared");
		return;
	}
	validate_pod_update(v, pod, old);
}

/* A container may not go from terminated back to running when the
 * pod's restart policy says it will not be restarted. */
static void container_transitions(verr *v, json_t *now, json_t *before, const char *policy)
{
	json_t *s, *o;
	size_t i, j;

	if (!strcmp(policy, "Always"))
		return;
	json_array_foreach (now, i, s) {
		json_array_foreach (before, j, o) {
			json_t *term = api_get(o, "state.terminated");
			if (!sk_streq(api_get_str(s, "name"), api_get_str(o, "name")) || !term)
				continue;
			if (!strcmp(policy, "OnFailure") && api_get_int(term, "exitCode", 0) != 0)
				continue;
			if (!api_get(s, "state.terminated"))
				verr_forbidden(v, fp("status.containerStatuses[%zu].state", i).s,
					       "may not be transitioned to non-terminated state");
		}
	}
}

void validate_pod_status(verr *v, json_t *pod, json_t *old)
{
	static const char *const system_conds[] = {"PodScheduled", "Ready", "Initialized", NULL};
	json_t *status = vget_obj(v, pod, "status", ""), *c, *ip;
	const char *policy = api_get_str(old, "spec.restartPolicy");
	const char *nom = vstr(v, status, "nominatedNodeName", "status");
	size_t i;

	json_array_foreach (vget_arr(v, status, "conditions", "status"), i, c) {
		const char *type = vstr(v, c, "type", fp("status.conditions[%zu]", i).s);
		if (!one_of(type, system_conds))
			validate_qualified_name(v, type, fp("status.conditions[%zu].type", i).s);
	}
	if (!json_equal(api_get(pod, "spec.nodeName") ? api_get(pod, "spec.nodeName") : json_null(),
			api_get(old, "spec.nodeName") ? api_get(old, "spec.nodeName")
						      : json_null()))
		verr_forbidden(v, "status.nodeName", "may not be changed directly");
	if (*nom && !sk_streq(nom, api_get_str(old, "status.nominatedNodeName")))
		validate_dns1123_subdomain(v, nom, "status.nominatedNodeName");
	validate_immutable(v, json_object_get(status, "qosClass"), api_get(old, "status.qosClass"),
			   "status.qosClass");
	container_transitions(v, json_object_get(status, "containerStatuses"),
			      api_get(old, "status.containerStatuses"), policy ? policy : "Always");
	json_array_foreach (vget_arr(v, status, "podIPs", "status"), i, ip) {
		const char *s = api_get_str(ip, "ip");
		if (!api_is_ip(s))
			verr_invalid_str(v, fp("status.podIPs[%zu].ip", i).s, s ? s : "",
					 "must be a valid IP address");
	}
	if (*vstr(v, status, "podIP", "status") && !api_is_ip(api_get_str(status, "podIP")))
		verr_invalid_str(v, "status.podIP", api_get_str(status, "podIP"),
				 "must be a valid IP address");
}
