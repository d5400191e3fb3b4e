/* The multi-call entry point: `skiff COMMAND ...`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_command __start_skiff_cmds[];
extern const struct cli_command __stop_skiff_cmds[];

const struct cli_command *cli_find_command(const char *name)
{
	for (const struct cli_command *c = __start_skiff_cmds; c < __stop_skiff_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cli_fail(const sk_err *err)
{
	fprintf(stderr, "skiff: %s\n", err->msg[0] ? err->msg : "failed");
	return 1;
}

int cli_failf(const char *fmt, ...)
{
	va_list ap;

	fputs("skiff: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int compare_commands(const void *a, const void *b)
{
	const struct cli_command *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int cmd_help(int argc SK_UNUSED, char **argv SK_UNUSED)
{
	size_t n = (size_t)(__stop_skiff_cmds - __start_skiff_cmds);
	_cleanup_free_ const struct cli_command **sorted = sk_calloc(n, sizeof(*sorted));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!__start_skiff_cmds[i].hidden)
			sorted[k++] = &__start_skiff_cmds[i];
	qsort(sorted, k, sizeof(*sorted), compare_commands);
	printf("usage: skiff COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < k; i++)
		printf("  %-14s %s\n", sorted[i]->name, sorted[i]->summary);
	return 0;
}
SK_COMMAND(help, "help", cmd_help, "list the commands");

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc, argv);
	if (getenv("SKIFF_DEBUG"))
		sk_log_level = SK_LOG_DEBUG;
	/* kubectl takes global flags before the command too
	 * (`skiff --kubeconfig F get pods`): the command is the first word that
	 * names one; it moves to the front, the flags follow it. */
	if (argv[1][0] == '-') {
		for (int i = 2; i < argc; i++) {
			if (argv[i][0] != '-' && cli_find_command(argv[i])) {
				char *word = argv[i];

				memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof(char *));
				argv[1] = word;
				break;
			}
		}
	}
	cmd = cli_find_command(argv[1]);
	if (!cmd)
		return cli_failf("unknown command \"%s\" (see skiff help)", argv[1]);
	return cmd->run(argc - 1, argv + 1);
}
