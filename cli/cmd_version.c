/* skiff version: the client's version and the server's (GET /version), in
 * kubectl version's layout; -o json|yaml as kubectl prints them (JSON with
 * two-space indentation in version.Info's field order). */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                              \
	"usage: skiff version [--client] [-o json|yaml]\n" \
	"Print the client and the server versions.\n"
#include <sys/utsname.h>

static const char *const info_fields[] = {"major",
					  "minor",
					  "emulationMajor",
					  "emulationMinor",
					  "minCompatibilityMajor",
					  "minCompatibilityMinor",
					  "gitVersion",
					  "gitCommit",
					  "gitTreeState",
					  "buildDate",
					  "goVersion",
					  "compiler",
					  "platform",
					  NULL};

static const char *platform_arch(void)
{
	static struct utsname u;

	if (uname(&u) < 0)
		return "unknown";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

static json_t *client_info(void)
{
	_cleanup_free_ char *platform = sk_asprintf("linux/%s", platform_arch());

	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor", "33",
			 "gitVersion", CLI_VERSION, "gitCommit", "", "gitTreeState", "",
			 "buildDate", "", "goVersion", "", "compiler", "gcc", "platform", platform);
}

/* version.Info's fields in its declaration order, the empty optional ones
 * left out as Go's omitempty does. */
static json_t *ordered_info(json_t *v)
{
	json_t *o = json_object();

	for (size_t i = 0; info_fields[i]; i++) {
		json_t *f = json_object_get(v, info_fields[i]);
		bool optional = strstr(info_fields[i], "emulation") ||
				strstr(info_fields[i], "minCompatibility");

		if (f && !(optional && json_string_length(f) == 0))
			json_object_set(o, info_fields[i], f);
		else if (!optional)
			json_object_set_new(o, info_fields[i], json_string(""));
	}
	return o;
}

static int cmd_version(int argc, char **argv)
{
	bool client_only = false;
	const char *output = NULL;
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"client", 0, CLI_FLAG_BOOL, &client_only, NULL},
		{"output", 'o', CLI_FLAG_STRING, &output, NULL},
		{0},
	};
	struct cli_client c;
	json_t *server = NULL, *all;
	sk_err err = {0}, serr = {0};
	sk_buf out;
	int rc = 0;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0)
		return cli_failf("error: %s", err.msg);
	if (output && strcmp(output, "json") && strcmp(output, "yaml"))
		return cli_failf("error: --output must be 'yaml' or 'json'");
	if (!client_only) {
		if (cli_client_open(&c, &err) < 0)
			return cli_fail(&err);
		if (cli_request(&c, "GET", "/version", NULL, NULL, NULL, &server, NULL, &serr) <
		    0) {
			json_decref(server);
			server = NULL;
			rc = 1;
		}
		cli_client_close(&c);
	}
	all = json_pack("{s:o}", "clientVersion", client_info());
	if (server)
		json_object_set_new(all, "serverVersion", ordered_info(server));
	sk_buf_init(&out);
	if (output && !strcmp(output, "yaml")) {
		api_yaml_dump(all, &out);
	} else if (output) {
		char *s = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		sk_buf_printf(&out, "%s\n", s);
		free(s);
	} else {
		sk_buf_printf(&out, "Client Version: %s\n", CLI_VERSION);
		if (server)
			sk_buf_printf(&out, "Server Version: %s\n",
				      json_string_value(json_object_get(server, "gitVersion"))
					      ?: "");
	}
	cli_flush_out(&out);
	sk_buf_free(&out);
	json_decref(all);
	json_decref(server);
	if (rc)
		return cli_fail(&serr);
	return 0;
}
SK_COMMAND(version, "version", cmd_version, "print the client and server versions");
