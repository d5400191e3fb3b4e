/* Container logs as `kubectl logs` wants them, from the runtime's CRI log
 * files (<run>.log and its rotations <run>.log.<time>): the text of each
 * record (a 'P' record continues on the next one), optionally prefixed by
 * its timestamp; --tail (counted in records, as the kubelet counts lines),
 * --since, --limit-bytes, --previous (the run before the current one),
 * and -f, which follows the current run, through rotations, until the
 * container stops. */
#include "agent_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 100

struct agent_log_reader {
	char *state_dir, *id, *container;
	struct agent_log_opts o;
	char **files; /* the run's files, oldest first; the last is <run>.log */
	size_t file;  /* the one being read */
	int fd;
	ino_t ino;
	int run;
	int64_t skip;	/* records still to skip (tail) */
	int64_t budget; /* bytes left (limitBytes); < 0: unlimited */
	sk_buf in;	/* unparsed bytes from the file */
	sk_buf out;	/* formatted, not yet returned */
	size_t out_pos;
	bool done;
};

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* <dir>/<run>.log.<stamp>... sorted (stamps sort by time), then <run>.log */
static char **run_files(const char *dir, int run)
{
	char prefix[32], cur[32];
	char **v = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;

	snprintf(prefix, sizeof(prefix), "%d.log.", run);
	snprintf(cur, sizeof(cur), "%d.log", run);
	while (d && (de = readdir(d)))
		if (sk_startswith(de->d_name, prefix)) {
			_cleanup_free_ char *p = sk_path_join(dir, de->d_name);
			v = sk_strv_push(v, p);
		}
	if (d)
		closedir(d);
	if (v)
		qsort(v, sk_strv_len(v), sizeof(char *), compare_str);
	_cleanup_free_ char *last = sk_path_join(dir, cur);
	return sk_strv_push(v, last);
}

static const struct rt_container_status *find_ctr(const struct rt_pod_status *st, const char *name)
{
	for (size_t i = 0; i < st->n_containers; i++)
		if (!strcmp(st->containers[i].name, name))
			return &st->containers[i];
	for (size_t i = 0; i < st->n_init_containers; i++)
		if (!strcmp(st->init_containers[i].name, name))
			return &st->init_containers[i];
	return NULL;
}

/* Count the records of the files (for --tail). */
static int64_t count_records(char **files)
{
	int64_t n = 0;
	char buf[65536];

	for (size_t i = 0; files[i]; i++) {
		_cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t r;
		while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t k = 0; k < r; k++)
				n += buf[k] == '\n';
	}
	return n;
}

static int choose_run(struct agent_log_reader *r, const char *pod, sk_err *err)
{
	struct rt_pod_status st;
	const struct rt_container_status *c;
	int ret = 0;

	if (rt_pod_status_file(r->state_dir, r->id, &st, err) < 0)
		return sk_err_set(err, ENOENT, "pod \"%s\" has no status on this node", pod);
	c = find_ctr(&st, r->container);
	if (!c) {
		ret = sk_err_set(err, EINVAL, "container %s is not valid for pod %s", r->container,
				 pod);
	} else if (r->o.previous) {
		if (!c->has_last_state)
			ret = sk_err_set(err, EINVAL,
					 "previous terminated container \"%s\" in pod \"%s\" not "
					 "found",
					 r->container, pod);
		/* lastState's run: while waiting to restart, the count is not up yet */
		r->run = c->state == RT_WAITING ? c->restart_count : c->restart_count - 1;
		r->o.follow = false;
	} else if (c->state == RT_WAITING && !c->has_last_state) {
		ret = sk_err_set(err, EINVAL,
				 "container \"%s\" in pod \"%s\" is waiting to start: %s",
				 r->container, pod, c->reason ? c->reason : "ContainerCreating");
	} else {
		r->run = c->restart_count;
	}
	rt_pod_status_free(&st);
	return ret;
}

int agent_log_open(const char *state_dir, const char *ns, const char *pod, const char *container,
		   const struct agent_log_opts *o, struct agent_log_reader **out, sk_err *err)
{
	struct agent_log_reader *r = sk_calloc(1, sizeof(*r));
	struct rt_pod_config *cfg = NULL;

	r->fd = -1;
	r->o = *o;
	r->state_dir = sk_strdup(state_dir);
	r->id = rt_pod_id(ns, pod);
	r->container = sk_strdup(container);
	r->budget = o->limit_bytes > 0 ? o->limit_bytes : -1;
	sk_buf_init(&r->in);
	sk_buf_init(&r->out);
	if (rt_pod_config_load(state_dir, r->id, &cfg, err) < 0 ||
	    rt_pod_config_check(cfg, err) < 0) {
		rt_pod_config_free(cfg);
		agent_log_close(r);
		return sk_err_set(err, ENOENT, "pods \"%s\" not found", pod);
	}
	if (choose_run(r, pod, err) < 0) {
		rt_pod_config_free(cfg);
		agent_log_close(r);
		return -1;
	}
	_cleanup_free_ char *path = rt_container_log_path(cfg, container, r->run);
	rt_pod_config_free(cfg);
	_cleanup_free_ char *dir = sk_strndup(path, (size_t)(strrchr(path, '/') - path));
	r->files = run_files(dir, r->run);
	if (o->tail_lines >= 0) {
		int64_t total = count_records(r->files);
		r->skip = total > o->tail_lines ? total - o->tail_lines : 0;
	}
	*out = r;
	return 0;
}

void agent_log_close(struct agent_log_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	sk_strv_free(r->files);
	sk_buf_free(&r->in);
	sk_buf_free(&r->out);
	free(r->state_dir);
	free(r->id);
	free(r->container);
	free(r);
}

/* ---- records ----------------------------------------------------------------------- */

/* A record's RFC 3339 time with nanoseconds, as unix nanoseconds (0 when
 * it does not parse). */
static int64_t record_time(const char *ts, size_t n)
{
	char whole[32];
	int64_t sec, frac = 0;
	int digits = 0;

	if (n < 20 || (ts[19] != '.' && ts[19] != 'Z'))
		return 0;
	snprintf(whole, sizeof(whole), "%.19sZ", ts);
	if (sk_parse_rfc3339(whole, &sec) < 0)
		return 0;
	for (size_t i = 20; ts[19] == '.' && i < n && ts[i] >= '0' && ts[i] <= '9'; i++)
		if (digits < 9) {
			frac = frac * 10 + (ts[i] - '0');
			digits++;
		}
	for (; digits < 9; digits++)
		frac *= 10;
	return sec * 1000000000LL + frac;
}

/* "<time> <stream> <tag> <text>": append what kubectl shows. */
void agent_log_format(const char *line, size_t len, bool timestamps, int64_t since_ns, sk_buf *out)
{
	const char *end = line + len;
	const char *s1 = memchr(line, ' ', len);
	const char *s2 = s1 ? memchr(s1 + 1, ' ', (size_t)(end - s1 - 1)) : NULL;
	const char *s3 = s2 ? memchr(s2 + 1, ' ', (size_t)(end - s2 - 1)) : NULL;
	bool partial;

	if (!s3)
		return; /* not a CRI record */
	partial = s3 - s2 == 2 && s2[1] == 'P';
	if (since_ns > 0 && record_time(line, (size_t)(s1 - line)) < since_ns)
		return;
	if (timestamps) {
		sk_buf_append(out, line, (size_t)(s1 - line));
		sk_buf_putc(out, ' ');
	}
	sk_buf_append(out, s3 + 1, (size_t)(end - s3 - 1));
	if (!partial)
		sk_buf_putc(out, '\n');
}

/* Records in r->in become output; a trailing partial line stays. */
static void parse_records(struct agent_log_reader *r)
{
	char *start = r->in.data, *nl;
	size_t rest = r->in.len;

	while (rest && (nl = memchr(start, '\n', rest))) {
		size_t n = (size_t)(nl - start);
		if (r->skip > 0)
			r->skip--;
		else
			agent_log_format(start, n, r->o.timestamps, r->o.since_ns, &r->out);
		rest -= n + 1;
		start = nl + 1;
	}
	memmove(r->in.data, start, rest);
	r->in.len = rest;
	if (r->in.data)
		r->in.data[rest] = '\0';
}

static int open_file(struct agent_log_reader *r)
{
	struct stat st;

	r->fd = open(r->files[r->file], O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -1;
	if (fstat(r->fd, &st) == 0)
		r->ino = st.st_ino;
	return 0;
}

/* Read what the current file has; false at its end. */
static bool read_some(struct agent_log_reader *r)
{
	char buf[65536];
	ssize_t n;

	if (r->fd < 0 && open_file(r) < 0)
		return false;
	n = read(r->fd, buf, sizeof(buf));
	if (n <= 0)
		return false;
	sk_buf_append(&r->in, buf, (size_t)n);
	parse_records(r);
	return true;
}

/* The current run's file was rotated: <run>.log is a new inode. */
static bool rotated(struct agent_log_reader *r)
{
	struct stat st;

	return stat(r->files[r->file], &st) == 0 && st.st_ino != r->ino;
}

static bool still_running(struct agent_log_reader *r)
{
	struct rt_pod_status st;
	const struct rt_container_status *c;
	bool running;
	sk_err err;

	if (rt_pod_status_file(r->state_dir, r->id, &st, &err) < 0)
		return false;
	c = find_ctr(&st, r->container);
	running = c && c->state == RT_RUNNING && c->restart_count == r->run &&
		  st.supervisor_alive && !st.stopping;
	rt_pod_status_free(&st);
	return running;
}

/* Fill r->out: 1 something, 0 the end, -2 nothing new within wait_ms. */
static int fill(struct agent_log_reader *r, int wait_ms)
{
	int64_t deadline = sk_monotonic_ns() + (int64_t)wait_ms * 1000000;

	for (;;) {
		if (read_some(r))
			return 1;
		if (r->files[r->file + 1]) {
			/* the next, newer file of the run */
			if (r->fd >= 0)
				close(r->fd);
			r->fd = -1;
			r->file++;
			continue;
		}
		if (!r->o.follow)
			return 0;
		if (r->fd >= 0 && rotated(r)) {
			close(r->fd);
			r->fd = -1;
			continue;
		}
		if (!still_running(r)) {
			/* what it wrote before it stopped */
			if (read_some(r))
				return 1;
			return 0;
		}
		if (sk_monotonic_ns() >= deadline)
			return -2;
		nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
	}
}

ssize_t agent_log_read(struct agent_log_reader *r, char *buf, size_t n, int wait_ms)
{
	while (r->out_pos == r->out.len && !r->done) {
		sk_buf_reset(&r->out);
		r->out_pos = 0;
		int f = fill(r, wait_ms);
		if (f == 0)
			r->done = true;
		if (f == -2)
			return -2;
	}
	size_t avail = r->out.len - r->out_pos;
	if (avail == 0)
		return 0;
	if (avail > n)
		avail = n;
	if (r->budget >= 0 && (int64_t)avail > r->budget)
		avail = (size_t)r->budget;
	if (avail == 0)
		return 0;
	memcpy(buf, r->out.data + r->out_pos, avail);
	r->out_pos += avail;
	if (r->budget >= 0)
		r->budget -= (int64_t)avail;
	return (ssize_t)avail;
}
