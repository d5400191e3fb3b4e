/* The store: create/update/delete with compare-and-swap, list at a
 * revision with limits, replay, compaction, the sink, encryption at rest,
 * and reopening (revisions continue, data is there). */
#include "../../server/store.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

static int encode_str(int64_t rev, void *ctx, char **value, size_t *len, sk_err *err)
{
	(void)err;
	*value = sk_asprintf("%s@%lld", (const char *)ctx, (long long)rev);
	*len = strlen(*value);
	return 0;
}

static int put(srv_store *st, enum srv_store_op_kind kind, const char *key, const char *val,
	       int64_t expect, int64_t *rev, sk_err *err)
{
	srv_store_op op = {.kind = kind,
			   .key = key,
			   .expect_rev = expect,
			   .encode = encode_str,
			   .encode_ctx = (void *)val};
	int r = srv_store_write(st, &op, err);
	if (rev)
		*rev = op.rev;
	return r;
}

struct collect {
	sk_buf out;
};

static int collect_kv(const srv_kv *kv, void *data)
{
	struct collect *c = data;
	sk_buf_printf(&c->out, "%s=%.*s;", kv->key, (int)kv->len, kv->value);
	return 0;
}

static int collect_ev(const srv_store_event *ev, void *data)
{
	struct collect *c = data;
	sk_buf_printf(&c->out, "%s %s %lld prev=%.*s;", ev->type == SRV_EV_PUT ? "PUT" : "DEL",
		      ev->key, (long long)ev->rev, ev->prev_value ? (int)ev->prev_len : 1,
		      ev->prev_value ? ev->prev_value : "-");
	return 0;
}

static int sink_count;
static int64_t sink_last_rev;
static void sink(const srv_store_event *ev, void *data)
{
	(void)data;
	sink_count++;
	if (ev->rev <= sink_last_rev)
		printf("# sink out of order: %lld after %lld\n", (long long)ev->rev,
		       (long long)sink_last_rev);
	sink_last_rev = ev->rev;
}

static char *list(srv_store *st, const char *prefix, const char *after, int64_t rev, size_t limit,
		  bool *more)
{
	struct collect c;
	sk_err err = {0};
	sk_buf_init(&c.out);
	if (srv_store_range(st, prefix, after, rev, limit, collect_kv, &c, more, &err) < 0) {
		sk_buf_free(&c.out);
		return sk_asprintf("error %d: %s", err.code, err.msg);
	}
	return sk_buf_steal(&c.out);
}

struct writer_arg {
	srv_store *st;
	int id, n, failures;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		char key[64];
		sk_err err = {0};
		snprintf(key, sizeof(key), "load/%d/%d", a->id, i);
		if (put(a->st, SRV_OP_CREATE, key, "x", 0, NULL, &err) < 0)
			a->failures++;
	}
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/skiff-store-XXXXXX";
	srv_store_backend *be;
	srv_store *st;
	sk_err err = {0};
	int64_t r1, r2, r3, r;
	bool more;

	if (!mkdtemp(dir))
		return 1;
	ok(srv_sqlite_open(dir, SRV_SYNC_FULL, &be, &err) == 0, "open sqlite backend: %s", err.msg);
	ok(srv_store_open(be, &st, &err) == 0, "open store");
	srv_store_set_sink(st, sink, NULL);

	is_int(put(st, SRV_OP_CREATE, "pods/default/a", "a1", 0, &r1, &err), 0, "create a");
	is_int(r1, 1, "first revision is 1");
	is_int(put(st, SRV_OP_CREATE, "pods/default/a", "a1", 0, NULL, &err), -1, "create a again");
	is_int(err.code, SRV_STORE_EXISTS, "... fails with EEXIST");
	is_int(put(st, SRV_OP_CREATE, "pods/default/b", "b1", 0, &r2, &err), 0, "create b");
	is_int(put(st, SRV_OP_UPDATE, "pods/default/a", "a2", r1, &r3, &err), 0,
	       "update a at its revision");
	is_int(put(st, SRV_OP_UPDATE, "pods/default/a", "a3", r1, NULL, &err), -1,
	       "update a at a stale revision");
	is_int(err.code, SRV_STORE_CONFLICT, "... fails with a conflict");
	is_int(put(st, SRV_OP_UPDATE, "pods/default/zz", "z", 0, NULL, &err), -1,
	       "update of a missing key");
	is_int(err.code, SRV_STORE_NOT_FOUND, "... is not found");
	is_int(srv_store_current_rev(st), 3, "failed writes take no revision");

	srv_kv kv;
	ok(srv_store_get(st, "pods/default/a", &kv, &err) == 0, "get a");
	is_str(kv.value, "a2@3", "get returns the newest value");
	is_int(kv.mod_rev, 3, "mod revision");
	is_int(kv.create_rev, 1, "create revision");
	srv_kv_clear(&kv);

	char *s = list(st, "pods/", NULL, 0, 0, &more);
	is_str(s, "pods/default/a=a2@3;pods/default/b=b1@2;", "list now");
	free(s);
	s = list(st, "pods/", NULL, 2, 0, &more);
	is_str(s, "pods/default/a=a1@1;pods/default/b=b1@2;", "list at revision 2");
	free(s);
	s = list(st, "pods/", NULL, 0, 1, &more);
	is_str(s, "pods/default/a=a2@3;", "list with limit 1");
	ok(more, "... says more remain");
	free(s);
	s = list(st, "pods/", "pods/default/a", 0, 1, &more);
	is_str(s, "pods/default/b=b1@2;", "continue after a");
	ok(!more, "... and nothing remains");
	free(s);

	is_int(put(st, SRV_OP_DELETE, "pods/default/b", "b-gone", r2, &r, &err), 0,
	       "delete b at its revision");
	s = list(st, "pods/", NULL, 0, 0, &more);
	is_str(s, "pods/default/a=a2@3;", "b is gone from the list");
	free(s);
	s = list(st, "pods/", NULL, 3, 0, &more);
	is_str(s, "pods/default/a=a2@3;pods/default/b=b1@2;", "b is still there at revision 3");
	free(s);
	is_int(put(st, SRV_OP_CREATE, "pods/default/b", "b2", 0, &r, &err), 0,
	       "b can be created again");
	ok(srv_store_get(st, "pods/default/b", &kv, &err) == 0 && kv.create_rev == r,
	   "the new b has a new create revision");
	srv_kv_clear(&kv);

	struct collect c;
	sk_buf_init(&c.out);
	ok(srv_store_replay(st, "pods/", 1, 0, collect_ev, &c, &err) == 0, "replay after 1");
	is_str(c.out.data,
	       "PUT pods/default/b 2 prev=-;PUT pods/default/a 3 prev=a1@1;"
	       "DEL pods/default/b 4 prev=b1@2;PUT pods/default/b 5 prev=-;",
	       "replay gives every later change in order, with previous values");
	sk_buf_free(&c.out);
	is_int(sink_count, 5, "the sink saw every committed write");

	/* compaction */
	is_int(put(st, SRV_OP_UPDATE, "pods/default/a", "a4", 0, NULL, &err), 0, "update a again");
	ok(srv_store_compact(st, 5, &err) == 0, "compact at 5");
	is_int(srv_store_compact_rev(st), 5, "compacted revision");
	s = list(st, "pods/", NULL, 2, 0, &more);
	like(s, "error 34", "list at a compacted revision fails with ERANGE");
	free(s);
	s = list(st, "pods/", NULL, 5, 0, &more);
	is_str(s, "pods/default/a=a2@3;pods/default/b=b2@5;", "list at the compacted revision");
	free(s);
	sk_buf_init(&c.out);
	is_int(srv_store_replay(st, "pods/", 3, 0, collect_ev, &c, &err), -1,
	       "replay from before the compaction fails");
	is_int(err.code, SRV_STORE_COMPACTED, "... with SRV_STORE_COMPACTED");
	sk_buf_reset(&c.out);
	ok(srv_store_replay(st, "pods/", 5, 0, collect_ev, &c, &err) == 0,
	   "replay from the compacted revision");
	is_str(c.out.data, "PUT pods/default/a 6 prev=a2@3;", "... sees the later change");
	sk_buf_free(&c.out);
	s = list(st, "pods/", NULL, 99, 0, &more);
	like(s, "error 11", "list at a future revision fails with EAGAIN");
	free(s);

	/* encryption at rest */
	unsigned char key[32];
	memset(key, 7, sizeof(key));
	ok(srv_store_encrypt_prefix(st, "secrets/", key, &err) == 0, "encrypt secrets/");
	is_int(put(st, SRV_OP_CREATE, "secrets/default/s", "TOPSECRET", 0, NULL, &err), 0,
	       "create a secret");
	ok(srv_store_get(st, "secrets/default/s", &kv, &err) == 0, "read it back");
	like(kv.value, "TOPSECRET@", "... decrypted");
	srv_kv_clear(&kv);

	/* concurrent writers share commits */
	pthread_t th[4];
	struct writer_arg wa[4];
	uint64_t writes0, txns0, writes1, txns1;
	srv_store_stats(st, &writes0, &txns0);
	for (int i = 0; i < 4; i++) {
		wa[i] = (struct writer_arg){.st = st, .id = i, .n = 250};
		pthread_create(&th[i], NULL, writer_thread, &wa[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	srv_store_stats(st, &writes1, &txns1);
	is_int(wa[0].failures + wa[1].failures + wa[2].failures + wa[3].failures, 0,
	       "1000 concurrent creates succeed");
	is_int(writes1 - writes0, 1000, "1000 writes counted");
	printf("# %llu transactions for 1000 writes\n", (unsigned long long)(txns1 - txns0));
	int64_t before = srv_store_current_rev(st);
	srv_store_close(st);

	/* reopen: data and revisions survive */
	ok(srv_sqlite_open(dir, SRV_SYNC_FULL, &be, &err) == 0, "reopen");
	ok(srv_store_open(be, &st, &err) == 0, "reopen the store");
	is_int(srv_store_current_rev(st), before, "current revision survives");
	is_int(srv_store_compact_rev(st), 5, "compacted revision survives");
	s = list(st, "load/", NULL, 0, 0, &more);
	size_t n = 0;
	for (char *p = s; (p = strchr(p, ';')); p++)
		n++;
	is_int(n, 1000, "the 1000 keys are there");
	free(s);
	ok(srv_store_get(st, "secrets/default/s", &kv, &err) == 0 && !strstr(kv.value, "TOPSECRET"),
	   "without the key, the secret reads as ciphertext");
	srv_kv_clear(&kv);
	ok(srv_store_encrypt_prefix(st, "secrets/", key, &err) == 0 &&
		   srv_store_get(st, "secrets/default/s", &kv, &err) == 0,
	   "with the key it does");
	srv_kv_clear(&kv);
	srv_store_close(st);

	/* the secret is not in the database file in clear */
	_cleanup_free_ char *db = sk_asprintf("%s/state.db", dir);
	_cleanup_free_ char *cmd =
		sk_asprintf("cat %s %s-wal 2>/dev/null | grep -c TOPSECRET >/dev/null", db, db);
	ok(system(cmd) != 0, "the secret's plaintext is nowhere in the database files");
	sk_rm_rf(dir, &err);
	return done_testing();
}
