/* common: the error convention, allocation, cleanup helpers, logging,
 * files and strings that every other module of skiff stands on.
 * Prefix: sk_. */
#ifndef SKIFF_COMMON_H
#define SKIFF_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- errors ------------------------------------------------------------
 * A fallible function returns a negative value and fills the sk_err passed
 * last. Callers add context on the way up with sk_err_wrap(); only the
 * command layer prints. `code` is an errno value when the failure came from
 * the system (0 otherwise), so callers can still branch on ENOENT etc. */
#define SK_ERR_MSG_MAX 2048

typedef struct sk_err {
	int code;
	char msg[SK_ERR_MSG_MAX];
} sk_err;

/* Fill err with "fmt..." and return -1. */
int sk_err_set(sk_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fill err with "fmt...: strerror(errnum)" and return -1; code = errnum. */
int sk_err_sys(sk_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepend context: "fmt...: <previous message>"; keeps code; returns -1. */
int sk_err_wrap(sk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sk_err_clear(sk_err *err);

/* ---- allocation: out-of-memory is decided once, here, by aborting ------ */
void *sk_malloc(size_t n);
void *sk_calloc(size_t n, size_t size);
void *sk_realloc(void *p, size_t n);
char *sk_strdup(const char *s);
char *sk_strndup(const char *s, size_t n);
char *sk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sk_vasprintf(const char *fmt, va_list ap);

/* ---- cleanup attributes and ownership moves ---------------------------- */
void sk_freep(void *p);
void sk_closep(int *fd);
void sk_fclosep(FILE **f);
void sk_strvfreep(char ***v);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(sk_freep)
#define _cleanup_close_ _cleanup_(sk_closep)
#define _cleanup_fclose_ _cleanup_(sk_fclosep)
#define _cleanup_strv_ _cleanup_(sk_strvfreep)

/* Hand a pointer or fd on: the variable is emptied so its cleanup is a no-op. */
#define move_ptr(p)                      \
	({                               \
		typeof(p) _moved_ = (p); \
		(p) = NULL;              \
		_moved_;                 \
	})
#define move_fd(fd)                    \
	({                             \
		int _moved_fd_ = (fd); \
		(fd) = -1;             \
		_moved_fd_;            \
	})

#define SK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SK_UNUSED __attribute__((unused))

/* ---- logging: to stderr, one line each, with a level ------------------- */
enum sk_log_level { SK_LOG_ERROR, SK_LOG_WARN, SK_LOG_INFO, SK_LOG_DEBUG };
extern int sk_log_level;
void sk_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define sk_error(...) sk_log(SK_LOG_ERROR, __VA_ARGS__)
#define sk_warn(...) sk_log(SK_LOG_WARN, __VA_ARGS__)
#define sk_info(...) sk_log(SK_LOG_INFO, __VA_ARGS__)
#define sk_debug(...) sk_log(SK_LOG_DEBUG, __VA_ARGS__)

/* ---- growable string buffer -------------------------------------------- */
typedef struct sk_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
} sk_buf;

void sk_buf_init(sk_buf *b);
void sk_buf_free(sk_buf *b);
void sk_buf_reset(sk_buf *b);
void sk_buf_append(sk_buf *b, const void *data, size_t n);
void sk_buf_puts(sk_buf *b, const char *s);
void sk_buf_putc(sk_buf *b, char c);
void sk_buf_printf(sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the buffer's string; the buffer is left empty. Never NULL. */
char *sk_buf_steal(sk_buf *b);
#define _cleanup_buf_ _cleanup_(sk_buf_free)

/* ---- strings ------------------------------------------------------------ */
bool sk_streq(const char *a, const char *b); /* NULL-safe */
bool sk_startswith(const char *s, const char *prefix);
bool sk_endswith(const char *s, const char *suffix);
/* Parse a whole decimal string into an integer in [min, max]. */
int sk_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, sk_err *err);
size_t sk_strv_len(char *const *v);
void sk_strv_free(char **v);
/* Append a copy of s to a NULL-terminated vector (reallocated). */
char **sk_strv_push(char **v, const char *s);

/* ---- files -------------------------------------------------------------- */
/* Read a whole file (at most max bytes; 0 = 64 MiB); NUL-terminated. */
int sk_read_file(const char *path, size_t max, char **out, size_t *len, sk_err *err);
int sk_read_fd(int fd, size_t max, char **out, size_t *len, sk_err *err);
/* Write a file by temporary name, fsync and rename: readers see old or new. */
int sk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, sk_err *err);
/* Write a string into an existing file (sysfs, cgroupfs, procfs). */
int sk_write_string(const char *path, const char *s, sk_err *err);
int sk_write_all(int fd, const void *data, size_t len);
int sk_mkdir_p(const char *path, mode_t mode, sk_err *err);
/* Remove a tree without crossing mount points or following symlinks. */
int sk_rm_rf(const char *path, sk_err *err);
bool sk_path_exists(const char *path);
char *sk_path_join(const char *a, const char *b);

/* ---- time --------------------------------------------------------------- */
int64_t sk_now_ns(void);       /* CLOCK_REALTIME */
int64_t sk_monotonic_ns(void); /* CLOCK_MONOTONIC */
/* RFC 3339 UTC, second precision ("2026-11-25T16:52:31Z"); buf >= 32. */
void sk_rfc3339(int64_t unix_sec, char *buf, size_t n);
/* RFC 3339 UTC with nanoseconds, as CRI logs use; buf >= 40. */
void sk_rfc3339_nano(int64_t unix_ns, char *buf, size_t n);
int sk_parse_rfc3339(const char *s, int64_t *unix_sec);

/* ---- identifiers -------------------------------------------------------- */
/* A random RFC 4122 v4 UUID, lower case; buf >= 37. */
void sk_uuid4(char *buf, size_t n);
/* n random lower-case alphanumerics and a NUL (buf >= n + 1), as
 * Kubernetes' generateName suffix; n <= 64. */
void sk_random_alnum(char *buf, size_t n);

/* ---- event loop --------------------------------------------------------
 * One epoll loop per daemon (supervisor, agent, server helpers): fds with
 * callbacks, one-shot timers, and signals delivered through signalfd. A
 * callback returning < 0 stops the loop with that error. */
typedef struct sk_loop sk_loop;
typedef int (*sk_loop_fd_cb)(sk_loop *loop, int fd, uint32_t events, void *data);
typedef int (*sk_loop_timer_cb)(sk_loop *loop, void *data);
typedef int (*sk_loop_signal_cb)(sk_loop *loop, int signo, void *data);

int sk_loop_new(sk_loop **out, sk_err *err);
void sk_loop_free(sk_loop *loop);
/* events: EPOLLIN/EPOLLOUT...; one registration per fd. */
int sk_loop_add_fd(sk_loop *loop, int fd, uint32_t events, sk_loop_fd_cb cb, void *data,
		   sk_err *err);
int sk_loop_mod_fd(sk_loop *loop, int fd, uint32_t events, sk_err *err);
void sk_loop_del_fd(sk_loop *loop, int fd);
/* A one-shot timer after delay_ms; returns an id > 0 for cancelling. */
uint64_t sk_loop_add_timer(sk_loop *loop, int64_t delay_ms, sk_loop_timer_cb cb, void *data);
void sk_loop_cancel_timer(sk_loop *loop, uint64_t id);
/* Block signo and deliver it to cb from the loop. */
int sk_loop_add_signal(sk_loop *loop, int signo, sk_loop_signal_cb cb, void *data, sk_err *err);
/* Run until sk_loop_stop() or a callback fails (then -1 with its error). */
int sk_loop_run(sk_loop *loop, sk_err *err);
void sk_loop_stop(sk_loop *loop);
/* The error a failing callback leaves for sk_loop_run to return. */
sk_err *sk_loop_err(sk_loop *loop);

/* ---- HTTP client (common/http.c, libcurl) ------------------------------
 * One sk_http per thread: it holds one libcurl handle, so connections are
 * kept alive between requests to the same server. HTTPS verifies the server
 * against the given CA (file or PEM text) unless `insecure`; the bearer
 * token is sent only over TLS, as kubectl does. A transport failure returns
 * -1 with err->code an errno (ECONNREFUSED, ETIMEDOUT, EPROTO for TLS,
 * EHOSTUNREACH for name resolution); any HTTP answer, 4xx/5xx included,
 * returns 0 with its status. */
typedef struct sk_http sk_http;

struct sk_http_config {
	const char *server;    /* "https://127.0.0.1:6443" (a path prefix is kept) */
	const char *ca_file;   /* PEM file of trusted CAs */
	const char *ca_data;   /* or the PEM text itself */
	const char *cert_file; /* client certificate (PEM), file or text */
	const char *cert_data;
	const char *key_file; /* its private key (PEM), file or text */
	const char *key_data;
	const char *token;	 /* bearer token */
	bool insecure;		 /* skip verification of the server's certificate */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;	 /* whole request; 0: none (streams always have none) */
	const char *user_agent;	 /* NULL: "skiff" */
};

struct sk_http_request {
	const char *method;	  /* NULL: GET, or POST when there is a body */
	const char *path;	  /* "/api/v1/pods?limit=500", appended to the server URL */
	const char *accept;	  /* NULL: application/json */
	const char *content_type; /* NULL with a body: application/json */
	const char *body;	  /* may be NULL */
	size_t body_len;
	long timeout_ms; /* overrides the client's when > 0 */
};

struct sk_http_response {
	long status;
	char *content_type; /* NULL when the server sent none */
	sk_buf body;
};

int sk_http_new(const struct sk_http_config *cfg, sk_http **out, sk_err *err);
void sk_http_free(sk_http *h);
const char *sk_http_server(const sk_http *h);
void sk_http_response_free(struct sk_http_response *r);
/* One request; the whole body is collected (bounded at 256 MiB). */
int sk_http_do(sk_http *h, const struct sk_http_request *req, struct sk_http_response *resp,
	       sk_err *err);
/* A streaming request (watch, logs -f). For a 2xx answer, cb gets the body
 * as it arrives: one line at a time without its '\n' when `lines` (a
 * trailing partial line is delivered at the end), else each chunk as
 * received. cb returning < 0 stops the stream with that error; > 0 stops
 * it quietly (return 0). A non-2xx answer is collected into resp->body
 * instead. resp->status is set in both cases. */
typedef int (*sk_http_data_cb)(const char *data, size_t len, void *ctx, sk_err *err);
int sk_http_stream(sk_http *h, const struct sk_http_request *req, bool lines, sk_http_data_cb cb,
		   void *ctx, struct sk_http_response *resp, sk_err *err);
/* From any thread: make the transfer under way (a stream, typically) and
 * every later one fail with ECANCELED, within about a second. */
void sk_http_cancel(sk_http *h);
/* Percent-encode a URL query or path component (RFC 3986 unreserved kept). */
char *sk_url_escape(const char *s);

/* ---- string-keyed hash map (common/map.c) -------------------------------
 * Keys are copied; values are owned by the map when free_value is given
 * (called on replace, delete, clear and free). Not thread-safe. */
typedef struct sk_map sk_map;
typedef struct sk_map_iter {
	size_t bucket_;
	void *entry_;
} sk_map_iter;

sk_map *sk_map_new(void (*free_value)(void *));
void sk_map_free(sk_map *m);
void sk_map_clear(sk_map *m);
void *sk_map_get(const sk_map *m, const char *key);
void sk_map_set(sk_map *m, const char *key, void *value);
/* Remove key and return its value without freeing it (NULL if absent). */
void *sk_map_take(sk_map *m, const char *key);
/* Remove key, freeing its value; false when it was absent. */
bool sk_map_del(sk_map *m, const char *key);
size_t sk_map_len(const sk_map *m);
/* Iterate: sk_map_iter it = {0}; while (sk_map_next(m, &it, &k, &v)) ...
 * The map must not change during the walk. */
bool sk_map_next(const sk_map *m, sk_map_iter *it, const char **key, void **value);

/* ---- aligned columns (common/tabwriter.c) -------------------------------
 * Go's text/tabwriter as kubectl configures it: text is cells ended by
 * '\t' and lines ended by '\n'; at a flush, each column block (consecutive
 * lines that have that cell) is padded with spaces to its widest cell plus
 * `padding`, at least `minwidth`. The cell after a line's last tab is never
 * padded. Widths count UTF-8 characters. With `remember` (kubectl's tables,
 * liggitt/tabwriter's RememberWidths) a column never gets narrower than it
 * was at an earlier flush, so `get -w` rows line up with the header. */
typedef struct sk_tabwriter {
	sk_buf text; /* what was written since the last flush */
	int minwidth, padding;
	bool remember;
	int *maxwidths;
	size_t nmaxwidths;
} sk_tabwriter;

/* kubectl's tables: sk_tabwriter_init(t, 6, 3, true); describe: (0, 2, false). */
void sk_tabwriter_init(sk_tabwriter *t, int minwidth, int padding, bool remember);
/* Forget the remembered widths (kubectl does it between resource kinds). */
void sk_tabwriter_forget(sk_tabwriter *t);
void sk_tabwriter_puts(sk_tabwriter *t, const char *s);
void sk_tabwriter_printf(sk_tabwriter *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Format what is buffered and append it to out. */
void sk_tabwriter_flush(sk_tabwriter *t, sk_buf *out);
void sk_tabwriter_free(sk_tabwriter *t);

#endif
