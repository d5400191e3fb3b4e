/* Container logs in the CRI format the kubelet reads:
 *
 *   2026-11-25T16:52:31.123456789Z stdout F a whole line
 *   2026-11-25T16:52:31.123456789Z stderr P the first 16 KiB of a long line
 *
 * One file per start of a container, <log dir>/<restart count>.log, as the
 * kubelet lays them out; the previous start's file is kept (logs
 * --previous), older ones go. A file over 10 MiB is rotated to
 * N.log.<time>, keeping 5 files per container. */
#include "runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (16 * 1024)
#define ROTATE_BYTES (10 * 1024 * 1024)
#define MAX_FILES 5

static const char *const stream_names[] = {"stdout", "stderr"};

/* Remove the files of start `restart` (and its rotations); keep the rest. */
static void remove_start(const char *dir, int restart)
{
	char prefix[32];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "%d.log", restart);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, prefix) ||
		    (sk_startswith(de->d_name, prefix) && de->d_name[strlen(prefix)] == '.'))
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int rt_crilog_open(struct rt_crilog *l, const char *dir, int restart, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("%s/%d.log", dir, restart);

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (sk_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (restart >= 2)
		remove_start(dir, restart - 2);
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0)
		return sk_err_sys(err, errno, "open log %s", path);
	l->dir = sk_strdup(dir);
	l->restart = restart;
	l->size = lseek(l->fd, 0, SEEK_END);
	sk_buf_init(&l->partial[0]);
	sk_buf_init(&l->partial[1]);
	return 0;
}

/* Older rotations beyond MAX_FILES - 1 go, oldest first (names sort by time). */
static void prune_rotations(struct rt_crilog *l)
{
	char prefix[32];
	char **names = NULL;
	DIR *d = opendir(l->dir);
	struct dirent *de;
	size_t n;

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "%d.log.", l->restart);
	while ((de = readdir(d)))
		if (sk_startswith(de->d_name, prefix))
			names = sk_strv_push(names, de->d_name);
	n = sk_strv_len(names);
	for (size_t i = 0; i + 1 < n; i++) /* a few names: a simple sort */
		for (size_t k = i + 1; k < n; k++)
			if (strcmp(names[i], names[k]) > 0) {
				char *t = names[i];
				names[i] = names[k];
				names[k] = t;
			}
	for (size_t i = 0; n > MAX_FILES - 1 && i < n - (MAX_FILES - 1); i++)
		(void)unlinkat(dirfd(d), names[i], 0);
	sk_strv_free(names);
	closedir(d);
}

static void rotate(struct rt_crilog *l)
{
	char stamp[40], cur[64], old[96];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(cur, sizeof(cur), "%d.log", l->restart);
	snprintf(old, sizeof(old), "%d.log.%s.%09ld", l->restart, stamp, ts.tv_nsec);
	_cleanup_free_ char *from = sk_path_join(l->dir, cur);
	_cleanup_free_ char *to = sk_path_join(l->dir, old);
	if (rename(from, to) < 0)
		return;
	close(l->fd);
	l->fd = open(from, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	l->size = 0;
	prune_rotations(l);
}

static void put_line(sk_buf *out, const char *ts, int stream, char tag, const char *text, size_t n)
{
	sk_buf_puts(out, ts);
	sk_buf_putc(out, ' ');
	sk_buf_puts(out, stream_names[stream]);
	sk_buf_putc(out, ' ');
	sk_buf_putc(out, tag);
	sk_buf_putc(out, ' ');
	sk_buf_append(out, text, n);
	sk_buf_putc(out, '\n');
}

static void write_out(struct rt_crilog *l, sk_buf *out)
{
	if (l->fd < 0 || !out->len)
		return;
	if (sk_write_all(l->fd, out->data, out->len) == 0)
		l->size += (int64_t)out->len;
	if (l->size >= ROTATE_BYTES)
		rotate(l);
}

void rt_crilog_feed(struct rt_crilog *l, int stream, const char *data, size_t n)
{
	sk_buf *part = &l->partial[stream];
	char ts[40];
	sk_buf out;

	sk_buf_init(&out);
	sk_rfc3339_nano(sk_now_ns(), ts, sizeof(ts));
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (part->len + take >= LINE_MAX_BYTES) {
			/* a line too long for one record: a partial one now */
			size_t room = LINE_MAX_BYTES - part->len;
			sk_buf_append(part, data, room);
			put_line(&out, ts, stream, 'P', part->data, part->len);
			sk_buf_reset(part);
			data += room;
			n -= room;
			continue;
		}
		if (!nl) {
			sk_buf_append(part, data, take);
			break;
		}
		if (part->len) {
			sk_buf_append(part, data, take);
			put_line(&out, ts, stream, 'F', part->data, part->len);
			sk_buf_reset(part);
		} else {
			put_line(&out, ts, stream, 'F', data, take);
		}
		data += take + 1;
		n -= take + 1;
	}
	if (!part->len)
		sk_buf_free(part); /* idle containers keep no buffer */
	write_out(l, &out);
	sk_buf_free(&out);
}

/* At EOF a line without its newline is still a whole line (containerd). */
void rt_crilog_flush(struct rt_crilog *l, int stream)
{
	sk_buf *part = &l->partial[stream];
	char ts[40];
	sk_buf out;

	if (!part->len)
		return;
	sk_buf_init(&out);
	sk_rfc3339_nano(sk_now_ns(), ts, sizeof(ts));
	put_line(&out, ts, stream, 'F', part->data, part->len);
	sk_buf_free(part);
	write_out(l, &out);
	sk_buf_free(&out);
}

void rt_crilog_close(struct rt_crilog *l)
{
	rt_crilog_flush(l, 0);
	rt_crilog_flush(l, 1);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->dir);
	l->dir = NULL;
}

char *rt_container_log_dir(const struct rt_pod_config *cfg, const char *container)
{
	return sk_asprintf("%s/%s_%s_%s/%s", cfg->log_dir, cfg->namespace, cfg->name, cfg->uid,
			   container);
}

char *rt_container_log_path(const struct rt_pod_config *cfg, const char *container,
			    int restart_count)
{
	return sk_asprintf("%s/%s_%s_%s/%s/%d.log", cfg->log_dir, cfg->namespace, cfg->name,
			   cfg->uid, container, restart_count);
}
