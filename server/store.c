/* The store's generic layer: one writer thread with group commit, values
 * encrypted at rest for chosen key prefixes, and the event sink.
 *
 * Group commit: callers queue their write and sleep; the writer takes
 * everything queued, runs it as one backend transaction (one fsync), feeds
 * the sink in revision order and wakes the callers. Under load, batches
 * grow by themselves, which is what lets synchronous=FULL keep up. */
#include "store.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 512
/* Kubernetes' encryption-at-rest envelope prefix, with our provider name. */
#define ENC_MAGIC "k8s:enc:aesgcm:v1:skiff:"
#define ENC_NONCE 12
#define ENC_TAG 16

struct write_req {
	srv_store_op *op;
	srv_store_encode_fn user_encode;
	void *user_ctx;
	srv_store *st;
	char *plain; /* the value as encoded, before encryption */
	size_t plain_len;
	int ret;
	sk_err err;
	bool done;
	struct write_req *next;
};

struct srv_store {
	srv_store_backend *be;
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t done;
	struct write_req *head, *tail;
	bool stop;
	srv_store_sink_fn sink;
	void *sink_data;
	char *enc_prefix;
	unsigned char enc_key[32];
	uint64_t writes, txns;
	size_t queued;
	int (*pending)(void *data);
	void *pending_data;
	int delay_us;
};

void srv_kv_clear(srv_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* ---- encryption ------------------------------------------------------------ */

static bool enc_applies(srv_store *st, const char *key)
{
	return st->enc_prefix && sk_startswith(key, st->enc_prefix);
}

static int enc_seal(srv_store *st, const char *plain, size_t n, char **out, size_t *out_len,
		    sk_err *err)
{
	gnutls_datum_t k = {.data = st->enc_key, .size = sizeof(st->enc_key)};
	gnutls_aead_cipher_hd_t h;
	size_t mlen = strlen(ENC_MAGIC), clen = n + ENC_TAG;
	unsigned char *buf = sk_malloc(mlen + ENC_NONCE + clen);
	int r;

	memcpy(buf, ENC_MAGIC, mlen);
	if (gnutls_rnd(GNUTLS_RND_NONCE, buf + mlen, ENC_NONCE) < 0) {
		free(buf);
		return sk_err_set(err, EIO, "encrypt: no random nonce");
	}
	if ((r = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k)) < 0) {
		free(buf);
		return sk_err_set(err, EIO, "encrypt: %s", gnutls_strerror(r));
	}
	r = gnutls_aead_cipher_encrypt(h, buf + mlen, ENC_NONCE, NULL, 0, ENC_TAG, plain, n,
				       buf + mlen + ENC_NONCE, &clen);
	gnutls_aead_cipher_deinit(h);
	if (r < 0) {
		free(buf);
		return sk_err_set(err, EIO, "encrypt: %s", gnutls_strerror(r));
	}
	*out = (char *)buf;
	*out_len = mlen + ENC_NONCE + clen;
	return 0;
}

/* Decrypt a value in place when it carries the envelope; values written
 * before encryption was enabled are returned as they are. *owned gets
 * the new buffer (or NULL when the input is returned). */
static int enc_open(srv_store *st, const char *key, const char *val, size_t n, const char **plain,
		    size_t *plain_len, char **owned, sk_err *err)
{
	size_t mlen = strlen(ENC_MAGIC);

	*owned = NULL;
	*plain = val;
	*plain_len = n;
	if (!val || !enc_applies(st, key) || n < mlen || memcmp(val, ENC_MAGIC, mlen) != 0)
		return 0;
	if (n < mlen + ENC_NONCE + ENC_TAG)
		return sk_err_set(err, EIO, "%s: encrypted value is truncated", key);

	gnutls_datum_t k = {.data = st->enc_key, .size = sizeof(st->enc_key)};
	gnutls_aead_cipher_hd_t h;
	size_t clen = n - mlen - ENC_NONCE, plen = clen;
	char *buf = sk_malloc(clen + 1);
	int r;

	if ((r = gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k)) < 0) {
		free(buf);
		return sk_err_set(err, EIO, "decrypt %s: %s", key, gnutls_strerror(r));
	}
	r = gnutls_aead_cipher_decrypt(h, val + mlen, ENC_NONCE, NULL, 0, ENC_TAG,
				       val + mlen + ENC_NONCE, clen, buf, &plen);
	gnutls_aead_cipher_deinit(h);
	if (r < 0) {
		free(buf);
		return sk_err_set(err, EIO, "decrypt %s: %s (wrong key in the data dir?)", key,
				  gnutls_strerror(r));
	}
	buf[plen] = '\0';
	*owned = buf;
	*plain = buf;
	*plain_len = plen;
	return 0;
}

int srv_store_encrypt_prefix(srv_store *st, const char *prefix, const unsigned char key[32],
			     sk_err *err)
{
	if (!prefix || !*prefix)
		return sk_err_set(err, EINVAL, "encryption needs a key prefix");
	free(st->enc_prefix);
	st->enc_prefix = sk_strdup(prefix);
	memcpy(st->enc_key, key, sizeof(st->enc_key));
	return 0;
}

/* The backend calls this (from the writer thread) for each op's value:
 * keep the plaintext for the sink, store the sealed form when the key is
 * encrypted. */
static int wrapped_encode(int64_t rev, void *ctx, char **value, size_t *len, sk_err *err)
{
	struct write_req *r = ctx;
	char *plain = NULL;
	size_t n = 0;

	if (r->user_encode(rev, r->user_ctx, &plain, &n, err) < 0)
		return -1;
	free(r->plain);
	r->plain = plain;
	r->plain_len = n;
	if (enc_applies(r->st, r->op->key))
		return enc_seal(r->st, plain, n, value, len, err);
	*value = sk_malloc(n + 1);
	memcpy(*value, plain, n);
	(*value)[n] = '\0';
	*len = n;
	return 0;
}

/* ---- the writer thread ------------------------------------------------------ */

static void feed_sink(srv_store *st, struct write_req *r)
{
	srv_store_op *op = r->op;
	_cleanup_free_ char *prev_owned = NULL;
	const char *prev = NULL;
	size_t prev_len = 0;
	sk_err err = {0};

	if (!st->sink)
		return;
	if (enc_open(st, op->key, op->prev_value, op->prev_len, &prev, &prev_len, &prev_owned,
		     &err) < 0) {
		sk_error("store: %s", err.msg);
		prev = NULL;
		prev_len = 0;
	}
	srv_store_event ev = {
		.type = op->kind == SRV_OP_DELETE ? SRV_EV_DELETE : SRV_EV_PUT,
		.key = op->key,
		.rev = op->rev,
		.create_rev = op->create_rev,
		.prev_rev = op->prev_rev,
		.value = r->plain,
		.len = r->plain_len,
		.prev_value = prev,
		.prev_len = prev_len,
		.hint = op->hint,
	};
	st->sink(&ev, st->sink_data);
}

static const char *op_verb(const srv_store_op *op)
{
	return op->kind == SRV_OP_CREATE   ? "create"
	       : op->kind == SRV_OP_UPDATE ? "update"
					   : "delete";
}

/* One batch: run it, then settle each request's outcome. */
static void run_batch(srv_store *st, struct write_req **reqs, size_t n)
{
	srv_store_op ops[BATCH_MAX];
	sk_err err = {0};
	int ret;

	for (size_t i = 0; i < n; i++) {
		ops[i] = *reqs[i]->op;
		ops[i].encode = wrapped_encode;
		ops[i].encode_ctx = reqs[i];
		ops[i].value = ops[i].prev_value = NULL;
	}
	ret = st->be->txn(st->be, ops, n, &err);
	st->txns++;
	for (size_t i = 0; i < n; i++) {
		struct write_req *r = reqs[i];
		srv_store_op *op = r->op;

		op->result = ops[i].result;
		op->rev = ops[i].rev;
		op->create_rev = ops[i].create_rev;
		op->prev_rev = ops[i].prev_rev;
		op->value = ops[i].value;
		op->len = ops[i].len;
		op->prev_value = ops[i].prev_value;
		op->prev_len = ops[i].prev_len;
		if (ret < 0) {
			r->err = err;
			r->ret = -1;
		} else if (op->result < 0) {
			int code = -op->result;
			r->ret = sk_err_set(&r->err, code, "%s %s: %s", op_verb(op), op->key,
					    code == SRV_STORE_EXISTS	  ? "already exists"
					    : code == SRV_STORE_NOT_FOUND ? "not found"
									  : "revision conflict");
		} else {
			st->writes++;
			feed_sink(st, r);
			r->ret = 0;
		}
	}
}

/* Group commit. Writers that commit together share one fsync. While the
 * server knows of write requests on their way to the store (past HTTP,
 * in the registry: a few tens of microseconds away), the writer waits up
 * to delay_us for them to join the batch (MySQL's
 * binlog_group_commit_sync_delay, but only when someone is coming). A
 * lone writer never waits. Called with the lock held. */
static void gather(srv_store *st)
{
	struct timespec until;

	if (st->delay_us <= 0 || !st->pending || st->queued >= BATCH_MAX ||
	    st->pending(st->pending_data) <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)st->delay_us * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!st->stop && st->queued < BATCH_MAX && st->pending(st->pending_data) > 0 &&
	       pthread_cond_timedwait(&st->work, &st->lock, &until) == 0)
		;
}

static void *writer_main(void *arg)
{
	srv_store *st = arg;
	pthread_setname_np(pthread_self(), "store-writer");
	struct write_req *batch[BATCH_MAX];

	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (!st->head && !st->stop)
			pthread_cond_wait(&st->work, &st->lock);
		if (!st->head && st->stop)
			break;
		gather(st);
		size_t n = 0;
		while (st->head && n < BATCH_MAX) {
			batch[n++] = st->head;
			st->head = st->head->next;
			st->queued--;
		}
		if (!st->head)
			st->tail = NULL;
		pthread_mutex_unlock(&st->lock);
		run_batch(st, batch, n);
		pthread_mutex_lock(&st->lock);
		for (size_t i = 0; i < n; i++)
			batch[i]->done = true;
		pthread_cond_broadcast(&st->done);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int srv_store_write(srv_store *st, srv_store_op *op, sk_err *err)
{
	struct write_req r = {
		.op = op,
		.user_encode = op->encode,
		.user_ctx = op->encode_ctx,
		.st = st,
	};

	op->value = op->prev_value = NULL;
	pthread_mutex_lock(&st->lock);
	if (st->stop) {
		pthread_mutex_unlock(&st->lock);
		return sk_err_set(err, ESHUTDOWN, "store is closing");
	}
	if (st->tail)
		st->tail->next = &r;
	else
		st->head = &r;
	st->tail = &r;
	st->queued++;
	pthread_cond_signal(&st->work);
	while (!r.done)
		pthread_cond_wait(&st->done, &st->lock);
	pthread_mutex_unlock(&st->lock);
	free(op->value);
	free(op->prev_value);
	op->value = op->prev_value = NULL;
	op->len = op->prev_len = 0;
	if (op->keep_value && r.ret == 0) {
		op->value = move_ptr(r.plain);
		op->len = r.plain_len;
	}
	free(r.plain);
	if (r.ret < 0) {
		*err = r.err;
		return -1;
	}
	return 0;
}

/* ---- reads with decryption -------------------------------------------------- */

struct read_ctx {
	srv_store *st;
	srv_store_kv_fn kv_fn;
	srv_store_event_fn ev_fn;
	void *data;
	sk_err *err;
};

static int range_decrypt(const srv_kv *kv, void *data)
{
	struct read_ctx *c = data;
	_cleanup_free_ char *owned = NULL;
	srv_kv copy = *kv;
	const char *v;

	if (enc_open(c->st, kv->key, kv->value, kv->len, &v, &copy.len, &owned, c->err) < 0)
		return -1;
	copy.value = (char *)v;
	return c->kv_fn(&copy, c->data);
}

static int replay_decrypt(const srv_store_event *ev, void *data)
{
	struct read_ctx *c = data;
	_cleanup_free_ char *o1 = NULL, *o2 = NULL;
	srv_store_event copy = *ev;

	if (enc_open(c->st, ev->key, ev->value, ev->len, &copy.value, &copy.len, &o1, c->err) < 0 ||
	    enc_open(c->st, ev->key, ev->prev_value, ev->prev_len, &copy.prev_value, &copy.prev_len,
		     &o2, c->err) < 0)
		return -1;
	return c->ev_fn(&copy, c->data);
}

int srv_store_get(srv_store *st, const char *key, srv_kv *out, sk_err *err)
{
	char *owned = NULL;
	const char *v;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (st->be->get(st->be, key, out, err) < 0)
		return -1;
	if (enc_open(st, key, out->value, out->len, &v, &n, &owned, err) < 0) {
		srv_kv_clear(out);
		return -1;
	}
	if (owned) {
		free(out->value);
		out->value = owned;
		out->len = n;
	}
	return 0;
}

static int check_rev(srv_store *st, int64_t rev, sk_err *err)
{
	int64_t compacted = st->be->compact_rev(st->be), cur = st->be->current_rev(st->be);

	if (rev > 0 && rev < compacted)
		return sk_err_set(err, SRV_STORE_COMPACTED,
				  "revision %lld has been compacted (oldest is %lld)",
				  (long long)rev, (long long)compacted);
	if (rev > cur)
		return sk_err_set(err, SRV_STORE_FUTURE,
				  "revision %lld is newer than the store (%lld)", (long long)rev,
				  (long long)cur);
	return 0;
}

int srv_store_range(srv_store *st, const char *prefix, const char *after, int64_t rev, size_t limit,
		    srv_store_kv_fn fn, void *data, bool *more, sk_err *err)
{
	struct read_ctx c = {.st = st, .kv_fn = fn, .data = data, .err = err};

	if (check_rev(st, rev, err) < 0)
		return -1;
	if (st->be->range(st->be, prefix, after, rev, limit, range_decrypt, &c, more, err) < 0)
		return -1;
	/* a compaction may have run while we read */
	return check_rev(st, rev, err);
}

int srv_store_replay(srv_store *st, const char *prefix, int64_t after, int64_t upto,
		     srv_store_event_fn fn, void *data, sk_err *err)
{
	struct read_ctx c = {.st = st, .ev_fn = fn, .data = data, .err = err};

	if (check_rev(st, after, err) < 0)
		return -1;
	if (st->be->replay(st->be, prefix, after, upto, replay_decrypt, &c, err) < 0)
		return -1;
	return check_rev(st, after, err);
}

int srv_store_compact(srv_store *st, int64_t rev, sk_err *err)
{
	if (rev > st->be->current_rev(st->be))
		rev = st->be->current_rev(st->be);
	return st->be->compact(st->be, rev, err);
}

int64_t srv_store_current_rev(srv_store *st)
{
	return st->be->current_rev(st->be);
}

int64_t srv_store_compact_rev(srv_store *st)
{
	return st->be->compact_rev(st->be);
}

void srv_store_stats(srv_store *st, uint64_t *writes, uint64_t *txns)
{
	pthread_mutex_lock(&st->lock);
	*writes = st->writes;
	*txns = st->txns;
	pthread_mutex_unlock(&st->lock);
}

void srv_store_set_batch_hint(srv_store *st, int (*pending)(void *data), void *data, int delay_us)
{
	pthread_mutex_lock(&st->lock);
	st->pending = pending;
	st->pending_data = data;
	st->delay_us = delay_us;
	pthread_mutex_unlock(&st->lock);
}

void srv_store_set_sink(srv_store *st, srv_store_sink_fn fn, void *data)
{
	st->sink = fn;
	st->sink_data = data;
}

int srv_store_open(srv_store_backend *be, srv_store **out, sk_err *err)
{
	srv_store *st = sk_calloc(1, sizeof(*st));
	int r;

	st->be = be;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->work, NULL);
	pthread_cond_init(&st->done, NULL);
	if ((r = pthread_create(&st->writer, NULL, writer_main, st)) != 0) {
		srv_store_close(st);
		return sk_err_sys(err, r, "start the store writer");
	}
	st->writer_started = true;
	*out = st;
	return 0;
}

void srv_store_close(srv_store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->lock);
	if (st->writer_started)
		pthread_join(st->writer, NULL);
	st->be->close(st->be);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->done);
	free(st->enc_prefix);
	gnutls_memset(st->enc_key, 0, sizeof(st->enc_key));
	free(st);
}
