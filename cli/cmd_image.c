/* skiff image import|ls|rm: the node's image store (runtime/image.c). */
#include "cli.h"

#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../runtime/runtime.h"

static const char image_usage[] =
	"usage: skiff image import [--image-dir DIR] NAME[:TAG] DIR|TARBALL|-\n"
	"       skiff image ls [--image-dir DIR] [-q]\n"
	"       skiff image rm [--image-dir DIR] [-f] NAME[:TAG]...\n"
	"       skiff image inspect [--image-dir DIR] NAME[:TAG]\n"
	"\n"
	"An image is an unpacked rootfs directory; a Pod's `image: NAME[:TAG]` names one.\n"
	"import copies a directory or unpacks a rootfs tarball (.tar, .tar.gz, .tar.xz,\n"
	"... ; - reads stdin). No tag means :latest.\n"
	"\n"
	"  --image-dir DIR  the image store (default " RT_IMAGE_DIR_DEFAULT ")\n"
	"  -q, --quiet      ls: print NAME:TAG only\n"
	"CONFIG: what a container runs when its Pod does not say (command replaces\n"
	"the entrypoint, args replace the cmd):\n"
	"  --entrypoint ARGV  a JSON array ('[\"httpd\",\"-f\"]') or a shell command line\n"
	"  --cmd ARGV         the same, for the default arguments\n"
	"  --env KEY=VALUE    an environment variable (repeat)\n"
	"  --workdir DIR      the working directory\n"
	"  -f, --force      rm: remove the name even while a container uses the image\n"
	"                   (its files go when the container is gone)\n";

struct image_opts {
	const char *image_dir;
	bool quiet;
	bool force;
	struct rt_image_config config;
};

static void image_opts_free(struct image_opts *o)
{
	sk_strv_free(o->config.entrypoint);
	sk_strv_free(o->config.cmd);
	sk_strv_free(o->config.env);
}

/* A JSON array of strings is the exec form; anything else is a shell
 * command line, run as /bin/sh -c, as a Dockerfile's shell form. */
static int parse_argv_option(const char *opt, const char *text, char ***out)
{
	json_error_t jerr;
	json_t *v, *item;
	size_t i;

	sk_strv_free(*out);
	*out = NULL;
	if (text[strspn(text, " \t")] != '[') {
		*out = sk_strv_push(sk_strv_push(sk_strv_push(NULL, "/bin/sh"), "-c"), text);
		return 0;
	}
	v = json_loads(text, 0, &jerr);
	if (!v || !json_is_array(v)) {
		json_decref(v);
		return cli_failf("image import: --%s: not a JSON array of strings: %s", opt,
				 v ? "not an array" : jerr.text);
	}
	*out = sk_calloc(1, sizeof(char *));
	json_array_foreach (v, i, item) {
		if (!json_is_string(item)) {
			json_decref(v);
			return cli_failf("image import: --%s: element %zu is not a string", opt, i);
		}
		*out = sk_strv_push(*out, json_string_value(item));
	}
	json_decref(v);
	return 0;
}

/* Options may come before or after the operands (GNU getopt permutes). */
static int parse_image_opts(int argc, char **argv, struct image_opts *o)
{
	static const struct option longopts[] = {
		{"image-dir", required_argument, NULL, 'd'},
		{"quiet", no_argument, NULL, 'q'},
		{"force", no_argument, NULL, 'f'},
		{"entrypoint", required_argument, NULL, 'E'},
		{"cmd", required_argument, NULL, 'C'},
		{"env", required_argument, NULL, 'e'},
		{"workdir", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->image_dir = RT_IMAGE_DIR_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qfh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->image_dir = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'E':
			if (parse_argv_option("entrypoint", optarg, &o->config.entrypoint))
				return 1;
			break;
		case 'C':
			if (parse_argv_option("cmd", optarg, &o->config.cmd))
				return 1;
			break;
		case 'e':
			o->config.env = sk_strv_push(o->config.env, optarg);
			break;
		case 'w':
			o->config.workdir = optarg;
			break;
		case 'h':
			fputs(image_usage, stdout);
			exit(0);
		default:
			return cli_failf("image %s: unknown option \"%s\" (see skiff image --help)",
					 argv[0], argv[optind - 1]);
		}
	}
	return 0;
}

static int image_import(int argc, char **argv)
{
	struct image_opts o = {0};
	struct rt_image img = {0};
	sk_err err = {0};

	int status = 0;

	if (parse_image_opts(argc, argv, &o))
		status = 1;
	else if (argc - optind != 2)
		status = cli_failf("image import: want NAME[:TAG] and a directory or tarball "
				   "(see skiff image --help)");
	else if (rt_image_import(o.image_dir, argv[optind], argv[optind + 1], &o.config, &img,
				 &err) < 0)
		status = cli_fail(&err);
	else
		printf("%s:%s %.12s\n", img.name, img.tag, img.id);
	rt_image_clear(&img);
	image_opts_free(&o);
	return status;
}

static void format_age(int64_t created, char *buf, size_t n)
{
	int64_t d = (int64_t)time(NULL) - created;

	if (created <= 0)
		snprintf(buf, n, "unknown");
	else if (d < 60)
		snprintf(buf, n, "%lld seconds ago", (long long)(d < 0 ? 0 : d));
	else if (d < 3600)
		snprintf(buf, n, "%lld minutes ago", (long long)d / 60);
	else if (d < 2 * 86400)
		snprintf(buf, n, "%lld hours ago", (long long)d / 3600);
	else
		snprintf(buf, n, "%lld days ago", (long long)d / 86400);
}

/* Decimal units, as podman and docker print image sizes. */
static void format_size(uint64_t size, char *buf, size_t n)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)size;
	size_t u = 0;

	while (v >= 1000 && u + 1 < SK_ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)size);
	else
		snprintf(buf, n, "%.3g %s", v, units[u]);
}

static int image_ls(int argc, char **argv)
{
	struct image_opts o = {0};
	struct rt_image *images = NULL;
	size_t n = 0;
	int wname = 4, wtag = 3;
	sk_err err = {0};

	if (parse_image_opts(argc, argv, &o))
		return 1;
	if (optind != argc)
		return cli_failf("image ls: unexpected argument \"%s\"", argv[optind]);
	if (rt_image_list(o.image_dir, &images, &n, &err) < 0)
		return cli_fail(&err);
	for (size_t i = 0; i < n; i++) {
		wname = (int)strlen(images[i].name) > wname ? (int)strlen(images[i].name) : wname;
		wtag = (int)strlen(images[i].tag) > wtag ? (int)strlen(images[i].tag) : wtag;
	}
	if (!o.quiet)
		printf("%-*s  %-*s  %-12s  %-16s  %s\n", wname, "NAME", wtag, "TAG", "ID",
		       "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		char age[32], size[32];
		if (o.quiet) {
			printf("%s:%s\n", images[i].name, images[i].tag);
			continue;
		}
		format_age(images[i].created, age, sizeof(age));
		format_size(images[i].size, size, sizeof(size));
		printf("%-*s  %-*s  %-12.12s  %-16s  %s\n", wname, images[i].name, wtag,
		       images[i].tag, images[i].id, age, size);
	}
	rt_image_list_free(images, n);
	return 0;
}

static int image_rm(int argc, char **argv)
{
	struct image_opts o = {0};
	int status = 0;

	if (parse_image_opts(argc, argv, &o))
		return 1;
	if (optind == argc)
		return cli_failf("image rm: want one or more NAME[:TAG]");
	for (int i = optind; i < argc; i++) {
		sk_err err = {0};
		if (rt_image_remove(o.image_dir, argv[i], o.force, &err) < 0)
			status = cli_fail(&err);
		else
			printf("removed %s\n", argv[i]);
	}
	return status;
}

/* A vector as a JSON array: unambiguous whatever its strings hold. */
static void print_argv(const char *label, char **v)
{
	json_t *a;
	char *text;

	if (!v)
		return;
	a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	text = json_dumps(a, JSON_COMPACT);
	printf("%s:%*s%s\n", label, (int)(11 - strlen(label)), "", text);
	free(text);
	json_decref(a);
}

static int image_inspect(int argc, char **argv)
{
	struct image_opts o = {0};
	struct rt_image img = {0};
	sk_err err = {0};
	char created[40];

	if (parse_image_opts(argc, argv, &o))
		return 1;
	if (argc - optind != 1)
		return cli_failf("image inspect: want one NAME[:TAG]");
	if (rt_image_inspect(o.image_dir, argv[optind], &img, &err) < 0)
		return cli_fail(&err);
	sk_rfc3339(img.created, created, sizeof(created));
	printf("name:       %s\ntag:        %s\nid:         %s\nrootfs:     %s\n"
	       "created:    %s\nsize:       %llu\nsource:     %s\n",
	       img.name, img.tag, img.id, img.rootfs, created, (unsigned long long)img.size,
	       img.source ? img.source : "");
	print_argv("entrypoint", img.config.entrypoint);
	print_argv("cmd", img.config.cmd);
	print_argv("env", img.config.env);
	if (img.config.workdir)
		printf("workdir:    %s\n", img.config.workdir);
	rt_image_clear(&img);
	return 0;
}

static int cmd_image(int argc, char **argv)
{
	static const struct {
		const char *name;
		cli_command_fn fn;
	} subs[] = {
		{"import", image_import}, {"ls", image_ls},	{"list", image_ls},
		{"rm", image_rm},	  {"remove", image_rm}, {"inspect", image_inspect},
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(image_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cli_failf("image: unknown subcommand \"%s\" (import, ls, rm, inspect)", argv[1]);
}
SK_COMMAND(image, "image", cmd_image, "import, list and remove rootfs images");
