/* cli: the command layer. Every user command registers itself with
 * SK_COMMAND in its own file; main() finds it by name. This is the only
 * layer that prints errors. Prefix: cli_. */
#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

#include "../common/common.h"

typedef int (*cli_command_fn)(int argc, char **argv);

struct cli_command {
	const char *name;
	cli_command_fn run;
	const char *summary; /* one line for `skiff help` */
	int hidden;	     /* internal commands (e.g. the supervisor entry) */
};

/* Commands live in a linker section so each command file registers itself
 * and no central table has to be edited when one is added. */
#define SK_COMMAND_FULL(ident, cmdname, fn, text, is_hidden)                 \
	static const struct cli_command cli_cmd_##ident                      \
		__attribute__((used, section("skiff_cmds"), aligned(8))) = { \
			.name = cmdname, .run = fn, .summary = text, .hidden = is_hidden}
#define SK_COMMAND(ident, cmdname, fn, text) SK_COMMAND_FULL(ident, cmdname, fn, text, 0)
#define SK_COMMAND_HIDDEN(ident, cmdname, fn) SK_COMMAND_FULL(ident, cmdname, fn, "", 1)

const struct cli_command *cli_find_command(const char *name);

/* Print "skiff: <msg>" on stderr; returns the exit status 1. */
int cli_fail(const sk_err *err);
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
