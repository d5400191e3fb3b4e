/* Unit tests for common/: errors, buffers, strings, files, time, ids. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/common.h"
#include "tap.h"

static void test_errors(void)
{
	sk_err err = {0};

	is_int(sk_err_sys(&err, ENOENT, "open %s", "/x"), -1, "sk_err_sys returns -1");
	is_str(err.msg, "open /x: No such file or directory", "system error message");
	is_int(err.code, ENOENT, "system error keeps errno");
	sk_err_wrap(&err, "mount volume \"%s\"", "data");
	is_str(err.msg, "mount volume \"data\": open /x: No such file or directory",
	       "wrap prepends");
	is_int(err.code, ENOENT, "wrap keeps the code");
}

static void test_buf_and_strings(void)
{
	_cleanup_buf_ sk_buf b;
	int64_t v = 0;
	sk_err err = {0};

	sk_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		sk_buf_printf(&b, "%d,", i);
	ok(b.len > 3000 && sk_startswith(b.data, "0,1,2,") && sk_endswith(b.data, "999,"),
	   "buffer grows and keeps content");
	ok(sk_parse_int64("42", 0, 100, &v, &err) == 0 && v == 42, "parse int");
	ok(sk_parse_int64("4x2", 0, 100, &v, &err) < 0, "parse int rejects junk");
	ok(sk_parse_int64("101", 0, 100, &v, &err) < 0, "parse int checks range");
	_cleanup_strv_ char **sv = NULL;
	sv = sk_strv_push(sv, "a");
	sv = sk_strv_push(sv, "b");
	is_int(sk_strv_len(sv), 2, "string vector");
}

static void test_files(void)
{
	char dir[] = "/tmp/skiff-unit-XXXXXX";
	sk_err err = {0};
	_cleanup_free_ char *content = NULL;
	size_t len = 0;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	_cleanup_free_ char *deep = sk_asprintf("%s/a/b/c", dir);
	ok(sk_mkdir_p(deep, 0755, &err) == 0, "mkdir -p");
	_cleanup_free_ char *f = sk_asprintf("%s/a/b/c/state.json", dir);
	ok(sk_write_file_atomic(f, "{}", 2, 0600, &err) == 0, "atomic write");
	ok(sk_read_file(f, 0, &content, &len, &err) == 0 && len == 2 && !strcmp(content, "{}"),
	   "read back");
	_cleanup_free_ char *link = sk_asprintf("%s/a/escape", dir);
	ok(symlink("/etc", link) == 0, "symlink");
	ok(sk_rm_rf(dir, &err) == 0, "rm -rf: %s", err.msg);
	ok(!sk_path_exists(dir), "tree gone");
	ok(sk_path_exists("/etc/passwd"), "symlink target untouched");
	ok(sk_read_file("/nonexistent/x", 0, &content, &len, &err) < 0 && err.code == ENOENT,
	   "missing file is ENOENT");
}

static void test_time_and_ids(void)
{
	char ts[64], uid[40], suffix[8];
	int64_t t = 0;

	sk_rfc3339(1795625551, ts, sizeof(ts));
	is_str(ts, "2026-11-25T16:52:31Z", "rfc3339");
	ok(sk_parse_rfc3339("2026-11-25T16:52:31Z", &t) == 0 && t == 1795625551, "parse rfc3339");
	ok(sk_parse_rfc3339("2026-11-25T17:52:31+01:00", &t) == 0 && t == 1795625551,
	   "parse rfc3339 with offset");
	ok(sk_parse_rfc3339("yesterday", &t) < 0, "reject bad time");
	sk_rfc3339_nano(1795625551123456789LL, ts, sizeof(ts));
	is_str(ts, "2026-11-25T16:52:31.123456789Z", "rfc3339 nano (CRI log)");
	sk_uuid4(uid, sizeof(uid));
	ok(strlen(uid) == 36 && uid[14] == '4', "uuid4 %s", uid);
	sk_random_alnum(suffix, 5);
	is_int(strlen(suffix), 5, "random suffix");
}

static int on_timer(sk_loop *loop, void *data)
{
	int *order = data;

	*order = *order * 10 + 2;
	sk_loop_stop(loop);
	return 0;
}

static int on_early_timer(sk_loop *loop SK_UNUSED, void *data)
{
	int *order = data;

	*order = *order * 10 + 1;
	return 0;
}

static int on_pipe(sk_loop *loop, int fd, uint32_t events SK_UNUSED, void *data)
{
	char c;
	int *got = data;

	if (read(fd, &c, 1) == 1)
		*got = c;
	sk_loop_del_fd(loop, fd);
	return 0;
}

static void test_loop(void)
{
	sk_loop *loop = NULL;
	sk_err err = {0};
	int order = 0, got = 0, p[2];

	ok(sk_loop_new(&loop, &err) == 0, "loop created");
	ok(pipe(p) == 0 && write(p[1], "x", 1) == 1, "pipe");
	ok(sk_loop_add_fd(loop, p[0], 1 /* EPOLLIN */, on_pipe, &got, &err) == 0, "add fd");
	sk_loop_add_timer(loop, 30, on_timer, &order);
	sk_loop_add_timer(loop, 5, on_early_timer, &order);
	uint64_t never = sk_loop_add_timer(loop, 10, on_timer, &order);
	sk_loop_cancel_timer(loop, never);
	ok(sk_loop_run(loop, &err) == 0, "loop ran");
	is_int(got, 'x', "fd callback ran");
	is_int(order, 12, "timers ran in order, the cancelled one not at all");
	close(p[0]);
	close(p[1]);
	sk_loop_free(loop);
}

int main(void)
{
	test_loop();
	test_errors();
	test_buf_and_strings();
	test_files();
	test_time_and_ids();
	return done_testing();
}
