/* The kubectl-style client commands share these: flag parsing, the
 * kubeconfig, an API client with kubectl's error messages, discovery and
 * resource name resolution, reading -f files, and printing. Internal to
 * cli/. */
#ifndef SKIFF_CLI_KUBE_INTERNAL_H
#define SKIFF_CLI_KUBE_INTERNAL_H

#include "../api/api.h"
#include "cli.h"

/* The server writes its admin kubeconfig here (default data dir). */
#define CLI_ADMIN_KUBECONFIG "/var/lib/skiff/server/admin.kubeconfig"
#define CLI_DEFAULT_SERVER "https://127.0.0.1:6443"
#define CLI_VERSION "v1.33.0+skiff"

/* ---- flags (cli/flags.c) -------------------------------------------------
 * kubectl's flag syntax: --name=value, --name value, -x value, -xvalue,
 * -x=value; booleans take no value (or =true/=false); `--` ends flags.
 * CLI_FLAG_STRINGS is pflag's StringSlice: repeatable and comma-separated.
 * The connection flags (--kubeconfig, --context, -s/--server, --token,
 * --insecure-skip-tls-verify, --certificate-authority, -n/--namespace,
 * --request-timeout) are accepted by every command. */
enum cli_flag_type { CLI_FLAG_BOOL, CLI_FLAG_STRING, CLI_FLAG_STRINGS, CLI_FLAG_INT };

struct cli_flag {
	const char *name; /* long name, without "--" */
	char short_name;  /* 0: none */
	enum cli_flag_type type;
	void *dest; /* bool *, const char **, char ***, int64_t * */
	bool *set;  /* optional: set to true when the flag was given */
};

struct cli_globals {
	const char *kubeconfig, *context, *server, *token, *ca_file, *namespace;
	const char *request_timeout;
	bool insecure;
};
extern struct cli_globals cli_globals;

/* Parse argv[1..] against flags (a table ended by {0}) plus the
 * connection flags; positional arguments go to *args (new strv). "-h" or
 * "--help" prints usage (and the connection flags) and exits 0. */
int cli_parse_flags(int argc, char **argv, const struct cli_flag *flags, const char *usage,
		    char ***args, sk_err *err);

/* ---- kubeconfig (cli/kubeconfig.c) --------------------------------------- */
struct cli_kubeconfig {
	char *source; /* the file it came from, or NULL when none was found */
	char *server;
	char *ca_file, *ca_data;
	char *cert_file, *cert_data, *key_file, *key_data;
	char *token;
	bool insecure;
	char *namespace; /* the context's namespace, or "default" */
};

/* Load --kubeconfig, else $KUBECONFIG (a colon-separated list, merged as
 * kubectl merges it: the first file that sets a value wins), else the
 * server's admin kubeconfig, else ~/.kube/config; then apply the
 * connection flags. No file at all gives https://127.0.0.1:6443. */
int cli_kubeconfig_load(struct cli_kubeconfig *kc, sk_err *err);
void cli_kubeconfig_free(struct cli_kubeconfig *kc);

/* ---- the API client (cli/client.c) --------------------------------------- */
/* One resource type as discovery describes it. */
struct cli_resource {
	char *group, *version, *resource, *kind, *singular;
	bool namespaced;
	char **short_names, **categories, **verbs;
};

struct cli_client {
	sk_http *http;
	struct cli_kubeconfig kc;
	const char *ns;	  /* -n, else the context's namespace */
	bool ns_explicit; /* -n was given */
	struct cli_resource *resources;
	size_t nresources;
	int discovered; /* 0 nothing, 1 the core group, 2 every group */
};

int cli_client_open(struct cli_client *c, sk_err *err);
void cli_client_close(struct cli_client *c);

/* One request with a JSON body (NULL: none) and a JSON answer (*out, NULL
 * allowed when the answer is not wanted). A non-2xx answer returns -1 with
 * err holding kubectl's message for it (`Error from server (NotFound):
 * pods "x" not found`, `The Pod "x" is invalid: ...`), *code the HTTP
 * status (0 for a transport failure, whose message names the server) and
 * *out the Status the server sent (or NULL): release it in both cases. */
int cli_request(struct cli_client *c, const char *method, const char *path, const char *accept,
		const char *content_type, json_t *body, json_t **out, long *code, sk_err *err);
/* kubectl's message for a Status answer. */
void cli_status_message(json_t *status, long code, sk_err *err);
/* The same with the source of the object named, as kubectl's
 * AddSourceToErr: `Error from server (AlreadyExists): error when creating
 * "svc.yaml": services "x" already exists`. */
void cli_status_message_source(json_t *status, long code, const char *verb, const char *source,
			       sk_err *err);

/* Discovery: the core group, then (all = true) every group. */
int cli_discover(struct cli_client *c, bool all, sk_err *err);
/* What the user typed ("po", "pods", "pod", "Pod", "deploy.apps",
 * "deployments.v1.apps") → a resource; else `the server doesn't have a
 * resource type "x"`. */
int cli_resolve(struct cli_client *c, const char *name, const struct cli_resource **out,
		sk_err *err);
/* An object's apiVersion and kind → a resource; NULL when unknown (err
 * empty) or when discovery failed (err set). */
const struct cli_resource *cli_resource_for(struct cli_client *c, const char *api_version,
					    const char *kind, sk_err *err);
/* The resources of a category ("all"), in discovery order; new array of
 * borrowed pointers, NULL-terminated. */
const struct cli_resource **cli_category(struct cli_client *c, const char *category);
/* "pod", "deployment.apps": what kubectl prints before "/name". */
char *cli_resource_kind_name(const struct cli_resource *r);
/* "apps/v1" or "v1". */
char *cli_resource_api_version(const struct cli_resource *r);
/* The collection or object path: /api/v1/namespaces/NS/pods[/NAME][?QUERY]
 * (ns ignored for cluster-scoped resources, NULL: all namespaces). */
char *cli_resource_path(const struct cli_resource *r, const char *ns, const char *name,
			const char *query);

/* ---- -f files (cli/client.c) ---------------------------------------------- */
/* Every object in the files, directories (*.yaml, *.yml, *.json; with
 * recursive, subdirectories too) or "-": an array of
 * {"object": {...}, "source": "path"}; a List's items are unpacked. */
int cli_read_objects(char **files, bool recursive, json_t **out, sk_err *err);

/* Where an object from a file goes: its resource, its namespace (the
 * object's, else -n, else the context's; NULL when cluster-scoped) and
 * name. An object whose namespace differs from an explicit -n is an
 * error, as in kubectl. */
struct cli_target {
	const struct cli_resource *res;
	const char *ns;
	const char *name; /* may be NULL (generateName) */
};
int cli_object_target(struct cli_client *c, json_t *obj, const char *source, struct cli_target *t,
		      sk_err *err);

/* ---- printing (cli/output.c) ---------------------------------------------- */
enum cli_output {
	CLI_OUT_TABLE,
	CLI_OUT_WIDE,
	CLI_OUT_YAML,
	CLI_OUT_JSON,
	CLI_OUT_NAME,
	CLI_OUT_JSONPATH, /* -o jsonpath=TEMPLATE (get only) */
};
int cli_output_parse(const char *s, enum cli_output *out, sk_err *err);

struct cli_table_opts {
	bool wide, with_namespace, show_labels, no_headers;
	const char *kind_prefix; /* "pod": print names as pod/NAME */
	char **label_columns;	 /* -L */
};
/* Print a meta.k8s.io Table (rows only, without the header, when header
 * is false) into the tab writer. Returns the number of rows. */
size_t cli_table_print(json_t *table, const struct cli_table_opts *o, bool header,
		       sk_tabwriter *tw);
/* The result of a write as kubectl prints it: "pod/web created" (verb),
 * or the object with -o yaml|json, or "pod/web" with -o name. */
void cli_print_result(const struct cli_resource *r, json_t *obj, enum cli_output out,
		      const char *verb, sk_buf *buf);
/* metadata.<key> of obj as a string, or NULL. */
const char *cli_meta(json_t *obj, const char *key);
/* Write buf to stdout and empty it. */
void cli_flush_out(sk_buf *buf);

/* ---- pods (cli/cmd_logs.c; logs and exec) --------------------------------- */
/* The container kubectl picks: `want`, else the default-container
 * annotation, else the first (saying "Defaulted container" on stderr when
 * there are several). NULL with err when the pod has none. */
char *cli_default_container(json_t *pod, const char *want, sk_err *err);
/* "NAME", "pod/NAME" or "pods/NAME": the name (NULL with err otherwise). */
const char *cli_pod_arg(const char *arg, sk_err *err);

#endif
