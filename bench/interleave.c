/* interleave: time several commands in turn, round after round, so drift
 * (other work on the machine, caches, frequency) falls on all of them
 * alike; hyperfine runs one command's batch after the other's.
 *
 *   interleave [-n RUNS] [-w WARMUP] [-o RAW.csv] -c NAME 'COMMAND' [-p 'PREPARE'] ...
 *
 * COMMAND is split into words like a shell would (wordexp, no command
 * substitution) and executed directly, stdout and stderr to /dev/null.
 * PREPARE (optional, per command) runs through /bin/sh before each timed
 * run and is not timed. The order rotates every round. A command that
 * fails stops everything with its stderr, so a broken setup never yields
 * a figure. Prints one line per command: name, runs, median, mean,
 * standard deviation, min, max (ms) and the ratio of medians to the first. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

#define MAX_COMMANDS 16

struct command {
	const char *name;
	const char *text;
	const char *prepare;
	wordexp_t words;
	double *ms;
	int n;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "interleave: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Run argv with stdout to /dev/null and stderr to errfd; its status. */
static int run(char **argv, int errfd)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(errfd, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	return status;
}

static void fail_with_stderr(const struct command *c, const char *what, int errfd)
{
	char buf[4096];
	ssize_t n;

	fprintf(stderr, "interleave: %s of \"%s\" failed: %s\n", what, c->name,
		what[0] == 'p' ? c->prepare : c->text);
	lseek(errfd, 0, SEEK_SET);
	while ((n = read(errfd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	exit(1);
}

static void run_once(struct command *c, int record, int errfd)
{
	double t0;
	int status;

	if (ftruncate(errfd, 0) < 0 || lseek(errfd, 0, SEEK_SET) < 0)
		die("stderr file: %s", strerror(errno));
	if (c->prepare) {
		char *sh[] = {"/bin/sh", "-c", (char *)c->prepare, NULL};
		if (run(sh, errfd) != 0)
			fail_with_stderr(c, "prepare", errfd);
	}
	t0 = now_ms();
	status = run(c->words.we_wordv, errfd);
	if (status != 0)
		fail_with_stderr(c, "run", errfd);
	if (record)
		c->ms[c->n++] = now_ms() - t0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(struct command *cmds, int ncmd, const char *raw_path)
{
	double first = 0;

	printf("%-14s %5s %9s %9s %8s %9s %9s %7s\n", "command", "runs", "median", "mean", "stddev",
	       "min", "max", "ratio");
	for (int i = 0; i < ncmd; i++) {
		struct command *c = &cmds[i];
		double sum = 0, sq = 0, med, mean, sd;
		for (int k = 0; k < c->n; k++)
			sum += c->ms[k];
		mean = sum / c->n;
		for (int k = 0; k < c->n; k++)
			sq += (c->ms[k] - mean) * (c->ms[k] - mean);
		sd = c->n > 1 ? sqrt(sq / (c->n - 1)) : 0;
		med = median(c->ms, c->n);
		if (i == 0)
			first = med;
		printf("%-14s %5d %9.2f %9.2f %8.2f %9.2f %9.2f %7.3f\n", c->name, c->n, med, mean,
		       sd, c->ms[0], c->ms[c->n - 1], med / first);
	}
	if (raw_path) {
		FILE *f = fopen(raw_path, "w");
		if (!f)
			die("open %s: %s", raw_path, strerror(errno));
		fprintf(f, "command,ms\n");
		for (int i = 0; i < ncmd; i++)
			for (int k = 0; k < cmds[i].n; k++)
				fprintf(f, "%s,%.4f\n", cmds[i].name, cmds[i].ms[k]);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	struct command cmds[MAX_COMMANDS] = {0};
	int ncmd = 0, runs = 50, warmup = 3, errfd;
	const char *raw = NULL;
	char errpath[] = "/tmp/interleave-stderr.XXXXXX";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-w") && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			raw = argv[++i];
		else if (!strcmp(argv[i], "-c") && i + 2 < argc && ncmd < MAX_COMMANDS) {
			cmds[ncmd].name = argv[++i];
			cmds[ncmd].text = argv[++i];
			ncmd++;
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc && ncmd > 0)
			cmds[ncmd - 1].prepare = argv[++i];
		else
			die("bad argument \"%s\" (see the comment at the top of interleave.c)",
			    argv[i]);
	}
	if (ncmd == 0 || runs < 1 || warmup < 0)
		die("%s", "want -n RUNS >= 1 and at least one -c NAME COMMAND");
	for (int i = 0; i < ncmd; i++) {
		if (wordexp(cmds[i].text, &cmds[i].words, WRDE_NOCMD | WRDE_UNDEF) != 0)
			die("cannot split the command \"%s\" into words", cmds[i].text);
		cmds[i].ms = calloc((size_t)runs, sizeof(double));
		if (!cmds[i].ms)
			die("%s", "out of memory");
	}
	errfd = mkstemp(errpath);
	if (errfd < 0)
		die("mkstemp: %s", strerror(errno));
	unlink(errpath);
	for (int round = 0; round < warmup + runs; round++)
		for (int k = 0; k < ncmd; k++)
			run_once(&cmds[(round + k) % ncmd], round >= warmup, errfd);
	report(cmds, ncmd, raw);
	return 0;
}
