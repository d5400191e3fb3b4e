/* kubectl's flag syntax (pflag): long flags with '=' or a separate value,
 * short flags with the value attached or separate, booleans with an
 * optional =true/=false, flags and arguments in any order, `--` to stop. */
#include "kube_internal.h"

#include <errno.h>

struct cli_globals cli_globals;

static const struct cli_flag global_flags[] = {
	{"kubeconfig", 0, CLI_FLAG_STRING, &cli_globals.kubeconfig, NULL},
	{"context", 0, CLI_FLAG_STRING, &cli_globals.context, NULL},
	{"server", 's', CLI_FLAG_STRING, &cli_globals.server, NULL},
	{"token", 0, CLI_FLAG_STRING, &cli_globals.token, NULL},
	{"certificate-authority", 0, CLI_FLAG_STRING, &cli_globals.ca_file, NULL},
	{"insecure-skip-tls-verify", 0, CLI_FLAG_BOOL, &cli_globals.insecure, NULL},
	{"namespace", 'n', CLI_FLAG_STRING, &cli_globals.namespace, NULL},
	{"request-timeout", 0, CLI_FLAG_STRING, &cli_globals.request_timeout, NULL},
	{0},
};

#define GLOBAL_USAGE                                                                              \
	"\nConnection flags (any command): --kubeconfig FILE, --context NAME, -s/--server URL,\n" \
	"  --token T, --certificate-authority FILE, --insecure-skip-tls-verify, -n/--namespace "  \
	"NS,\n"                                                                                   \
	"  --request-timeout DURATION\n"

static const struct cli_flag *find_flag(const struct cli_flag *flags, const char *name, size_t len,
					char short_name)
{
	const struct cli_flag *tables[] = {flags, global_flags};

	for (size_t t = 0; t < SK_ARRAY_SIZE(tables); t++) {
		for (const struct cli_flag *f = tables[t]; f && f->name; f++) {
			if (short_name && f->short_name == short_name)
				return f;
			if (!short_name && strlen(f->name) == len && !strncmp(f->name, name, len))
				return f;
		}
	}
	return NULL;
}

static int set_flag(const struct cli_flag *f, const char *value, sk_err *err)
{
	if (f->set)
		*f->set = true;
	switch (f->type) {
	case CLI_FLAG_BOOL:
		if (!value || !strcmp(value, "true"))
			*(bool *)f->dest = true;
		else if (!strcmp(value, "false"))
			*(bool *)f->dest = false;
		else
			return sk_err_set(
				err, EINVAL,
				"invalid argument \"%s\" for \"--%s\" flag: strconv.ParseBool: "
				"parsing \"%s\": invalid syntax",
				value, f->name, value);
		return 0;
	case CLI_FLAG_STRING:
		*(const char **)f->dest = value;
		return 0;
	case CLI_FLAG_STRINGS: { /* pflag's StringSlice: comma-separated, repeatable */
		_cleanup_free_ char *copy = sk_strdup(value);
		char *save = NULL;

		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
			*(char ***)f->dest = sk_strv_push(*(char ***)f->dest, p);
		return 0;
	}
	case CLI_FLAG_INT:
		if (sk_parse_int64(value, INT64_MIN, INT64_MAX, f->dest, err) < 0)
			return sk_err_set(
				err, EINVAL,
				"invalid argument \"%s\" for \"--%s\" flag: strconv.ParseInt: "
				"parsing \"%s\": invalid syntax",
				value, f->name, value);
		return 0;
	}
	return 0;
}

/* --name[=value] at argv[*i]. */
static int parse_long(int argc, char **argv, int *i, const struct cli_flag *flags, sk_err *err)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_flag *f = find_flag(flags, name, len, 0);

	if (!f)
		return sk_err_set(err, EINVAL, "unknown flag: --%.*s", (int)len, name);
	if (eq)
		return set_flag(f, eq + 1, err);
	if (f->type == CLI_FLAG_BOOL)
		return set_flag(f, NULL, err);
	if (*i + 1 >= argc)
		return sk_err_set(err, EINVAL, "flag needs an argument: --%s", f->name);
	return set_flag(f, argv[++*i], err);
}

/* -x, -xVALUE, -x=VALUE, -x VALUE, and bundled booleans (-Aw). */
static int parse_short(int argc, char **argv, int *i, const struct cli_flag *flags, sk_err *err)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct cli_flag *f = find_flag(flags, NULL, 0, *p);

		if (!f)
			return sk_err_set(err, EINVAL, "unknown shorthand flag: '%c' in %s", *p,
					  argv[*i]);
		if (f->type == CLI_FLAG_BOOL) {
			if (p[1] == '=')
				return set_flag(f, p + 2, err);
			if (set_flag(f, NULL, err) < 0)
				return -1;
			continue;
		}
		if (p[1])
			return set_flag(f, p[1] == '=' ? p + 2 : p + 1, err);
		if (*i + 1 >= argc)
			return sk_err_set(err, EINVAL, "flag needs an argument: '%c' in -%c", *p,
					  *p);
		return set_flag(f, argv[++*i], err);
	}
	return 0;
}

int cli_parse_flags(int argc, char **argv, const struct cli_flag *flags, const char *usage,
		    char ***args, sk_err *err)
{
	_cleanup_strv_ char **pos = sk_calloc(1, sizeof(char *));
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = 0;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			pos = sk_strv_push(pos, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			/* the command layer may end here: nothing is open yet */
			fputs(usage, stdout);
			fputs(GLOBAL_USAGE, stdout);
			exit(0);
		} else if (a[1] == '-') {
			r = parse_long(argc, argv, &i, flags, err);
		} else {
			r = parse_short(argc, argv, &i, flags, err);
		}
		if (r < 0)
			return -1;
	}
	*args = move_ptr(pos);
	return 0;
}
