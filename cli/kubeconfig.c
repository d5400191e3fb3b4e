/* Reading kubeconfig files as kubectl does (clientcmd): the file list
 * comes from --kubeconfig or $KUBECONFIG, else skiff's admin kubeconfig,
 * else ~/.kube/config; entries merge by name with the first file winning;
 * the context picks a cluster, a user and a namespace; connection flags
 * override the result. Paths inside a file are relative to that file. */
#include "kube_internal.h"

#include <errno.h>
#include <libgen.h>
#include <unistd.h>

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard base64 (whitespace ignored, padding optional). */
static int b64_decode(const char *in, char **out, sk_err *err)
{
	sk_buf b;
	unsigned acc = 0;
	int bits = 0;

	sk_buf_init(&b);
	for (const char *p = in; *p; p++) {
		int v;

		if (*p == '=' || *p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
			continue;
		v = b64_value((unsigned char)*p);
		if (v < 0) {
			sk_buf_free(&b);
			return sk_err_set(err, EINVAL, "illegal base64 data at input byte %td",
					  p - in);
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sk_buf_putc(&b, (char)((acc >> bits) & 0xFF));
		}
	}
	*out = sk_buf_steal(&b);
	return 0;
}

struct kc_files {
	json_t *docs; /* array of {"path": ..., "config": {...}} */
};

/* The named entry of a list ("clusters", "users", "contexts") across the
 * files, first file first; *dir gets that file's directory. */
static json_t *kc_lookup(json_t *files, const char *list, const char *name, const char **dir)
{
	size_t i, j;
	json_t *f, *e;

	if (!name || !*name)
		return NULL;
	json_array_foreach (files, i, f) {
		json_array_foreach (json_object_get(json_object_get(f, "config"), list), j, e) {
			if (sk_streq(json_string_value(json_object_get(e, "name")), name)) {
				*dir = json_string_value(json_object_get(f, "dir"));
				return e;
			}
		}
	}
	return NULL;
}

static const char *kc_first_string(json_t *files, const char *key)
{
	size_t i;
	json_t *f;

	json_array_foreach (files, i, f) {
		const char *s =
			json_string_value(json_object_get(json_object_get(f, "config"), key));

		if (s && *s)
			return s;
	}
	return NULL;
}

static char *kc_path(const char *dir, const char *p)
{
	if (!p || !*p)
		return NULL;
	if (p[0] == '/' || !dir)
		return sk_strdup(p);
	return sk_path_join(dir, p);
}

static int kc_load_file(json_t *files, const char *path, bool must_exist, sk_err *err)
{
	json_t *docs = NULL, *cfg;
	_cleanup_free_ char *copy = sk_strdup(path);

	if (!must_exist && access(path, R_OK) != 0)
		return 0;
	if (api_yaml_load_file(path, &docs, err) < 0)
		return sk_err_wrap(err, "error: error loading config file \"%s\"", path);
	cfg = json_array_get(docs, 0);
	if (cfg && !json_is_object(cfg)) {
		json_decref(docs);
		return sk_err_set(err, EINVAL,
				  "error: error loading config file \"%s\": not a mapping", path);
	}
	json_array_append_new(files, json_pack("{s:s,s:s,s:O}", "path", path, "dir", dirname(copy),
					       "config", cfg ? cfg : json_object()));
	json_decref(docs);
	return 0;
}

/* The list of files, as clientcmd's loading rules pick it. */
static int kc_load_files(json_t *files, sk_err *err)
{
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");

	if (cli_globals.kubeconfig)
		return kc_load_file(files, cli_globals.kubeconfig, true, err);
	if (env && *env) {
		_cleanup_free_ char *list = sk_strdup(env);
		char *save = NULL;

		for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
			if (kc_load_file(files, p, false, err) < 0)
				return -1;
		return 0;
	}
	if (access(CLI_ADMIN_KUBECONFIG, R_OK) == 0)
		return kc_load_file(files, CLI_ADMIN_KUBECONFIG, true, err);
	if (home) {
		_cleanup_free_ char *p = sk_path_join(home, ".kube/config");

		return kc_load_file(files, p, false, err);
	}
	return 0;
}

static void kc_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s && *s ? sk_strdup(s) : NULL;
}

static int kc_data(char **dst, json_t *obj, const char *key, const char *what, sk_err *err)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || !*s)
		return 0;
	free(*dst);
	*dst = NULL;
	if (b64_decode(s, dst, err) < 0)
		return sk_err_wrap(err, "kubeconfig %s", what);
	return 0;
}

static int kc_apply_cluster(struct cli_kubeconfig *kc, json_t *cluster, const char *dir,
			    sk_err *err)
{
	json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");

	kc_set(&kc->server, json_string_value(json_object_get(cluster, "server")));
	free(kc->ca_file);
	kc->ca_file =
		kc_path(dir, json_string_value(json_object_get(cluster, "certificate-authority")));
	kc->insecure = json_is_true(insecure) ||
		       sk_streq(json_string_value(insecure), "true"); /* a quoted "true" too */
	return kc_data(&kc->ca_data, cluster, "certificate-authority-data", "certificate authority",
		       err);
}

static int kc_apply_user(struct cli_kubeconfig *kc, json_t *user, const char *dir, sk_err *err)
{
	const char *token_file = json_string_value(json_object_get(user, "tokenFile"));

	kc_set(&kc->token, json_string_value(json_object_get(user, "token")));
	if (!kc->token && token_file && *token_file) {
		_cleanup_free_ char *path = kc_path(dir, token_file);
		char *tok = NULL;
		size_t len;

		if (sk_read_file(path, 1 << 20, &tok, &len, err) < 0)
			return sk_err_wrap(err, "kubeconfig tokenFile");
		while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
			tok[--len] = '\0';
		kc->token = tok;
	}
	kc->cert_file =
		kc_path(dir, json_string_value(json_object_get(user, "client-certificate")));
	kc->key_file = kc_path(dir, json_string_value(json_object_get(user, "client-key")));
	if (kc_data(&kc->cert_data, user, "client-certificate-data", "client certificate", err) < 0)
		return -1;
	return kc_data(&kc->key_data, user, "client-key-data", "client key", err);
}

static int kc_resolve(struct cli_kubeconfig *kc, json_t *files, sk_err *err)
{
	const char *ctx_name = cli_globals.context ? cli_globals.context
						   : kc_first_string(files, "current-context");
	const char *dir = NULL, *udir = NULL, *cdir = NULL;
	json_t *ctx = kc_lookup(files, "contexts", ctx_name, &dir), *c;

	if (cli_globals.context && !ctx)
		return sk_err_set(err, ENOENT, "error: context \"%s\" does not exist",
				  cli_globals.context);
	c = json_object_get(ctx, "context");
	kc_set(&kc->namespace, json_string_value(json_object_get(c, "namespace")));
	json_t *cluster = kc_lookup(files, "clusters",
				    json_string_value(json_object_get(c, "cluster")), &cdir);
	json_t *user =
		kc_lookup(files, "users", json_string_value(json_object_get(c, "user")), &udir);
	if (cluster && kc_apply_cluster(kc, json_object_get(cluster, "cluster"), cdir, err) < 0)
		return -1;
	if (user && kc_apply_user(kc, json_object_get(user, "user"), udir, err) < 0)
		return -1;
	return 0;
}

static void kc_apply_flags(struct cli_kubeconfig *kc)
{
	if (cli_globals.server)
		kc_set(&kc->server, cli_globals.server);
	if (cli_globals.token)
		kc_set(&kc->token, cli_globals.token);
	if (cli_globals.ca_file) {
		kc_set(&kc->ca_file, cli_globals.ca_file);
		kc_set(&kc->ca_data, NULL);
	}
	if (cli_globals.insecure)
		kc->insecure = true;
	if (cli_globals.namespace)
		kc_set(&kc->namespace, cli_globals.namespace);
	if (!kc->server)
		kc->server = sk_strdup(CLI_DEFAULT_SERVER);
	if (!kc->namespace)
		kc->namespace = sk_strdup("default");
}

int cli_kubeconfig_load(struct cli_kubeconfig *kc, sk_err *err)
{
	json_t *files = json_array();
	int r;

	memset(kc, 0, sizeof(*kc));
	r = kc_load_files(files, err);
	if (r == 0 && json_array_size(files) > 0) {
		kc->source = sk_strdup(
			json_string_value(json_object_get(json_array_get(files, 0), "path")));
		r = kc_resolve(kc, files, err);
	}
	json_decref(files);
	if (r < 0) {
		cli_kubeconfig_free(kc);
		return -1;
	}
	kc_apply_flags(kc);
	return 0;
}

void cli_kubeconfig_free(struct cli_kubeconfig *kc)
{
	char **fields[] = {&kc->source,	   &kc->server,	   &kc->ca_file,  &kc->ca_data,
			   &kc->cert_file, &kc->cert_data, &kc->key_file, &kc->key_data,
			   &kc->token,	   &kc->namespace};

	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}
