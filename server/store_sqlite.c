/* The embedded store: SQLite in WAL mode holding a log of revisions.
 *
 * One table, `kv`, has a row per change: (rev, key, create_rev, prev_rev,
 * deleted, value). A key's state at revision R is its newest row with
 * rev <= R (absent when that row is a tombstone), so listing at a
 * revision and replaying changes come from the same table, as in etcd and
 * kine. Compaction deletes the rows no revision >= the compacted one can
 * see.
 *
 * Durability: WAL with synchronous=FULL by default, so a commit returns
 * after the WAL is fsynced; a kill -9, a kernel crash or a power cut after
 * a write was acknowledged cannot lose it. The cost (one fdatasync per
 * commit) is shared by every write in a batch: see store.c (group
 * commit). SRV_SYNC_NORMAL skips that fsync: still safe against kill -9
 * (the WAL frames are in the kernel when the commit returns), not against
 * a power cut. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

#define READER_POOL_MAX 8

struct sqlite_backend {
	srv_store_backend be;
	char *path;
	sqlite3 *wdb; /* the writer's connection; wlock serialises it */
	pthread_mutex_t wlock;
	sqlite3_stmt *st_latest, *st_insert;
	sqlite3 *readers[READER_POOL_MAX]; /* idle read connections */
	int nreaders;
	pthread_mutex_t rlock;
	enum srv_sync sync;
	_Atomic int64_t cur_rev;
	_Atomic int64_t compacted;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS kv ("
	" rev INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL,"
	" create_rev INTEGER NOT NULL,"
	" prev_rev INTEGER NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" value BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS kv_key ON kv(key, rev);"
	"CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static int db_err(sk_err *err, sqlite3 *db, const char *what)
{
	return sk_err_set(err, EIO, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int db_exec(sqlite3 *db, const char *sql, sk_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sk_err_set(err, EIO, "%s: %s", sql, msg ? msg : "failed");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Every connection: WAL, FULL sync (see the top of this file), and a busy
 * timeout so a reader never fails while the writer checkpoints. */
static int db_open(const char *path, bool create, enum srv_sync sync, sqlite3 **out, sk_err *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		db_err(err, db, path);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 10000);
	if (db_exec(db,
		    sync == SRV_SYNC_FULL ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
					  : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
		    err) < 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

static int64_t meta_get(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t max_rev(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT MAX(rev) FROM kv", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- readers ------------------------------------------------------------- */

static int reader_get(struct sqlite_backend *b, sqlite3 **out, sk_err *err)
{
	pthread_mutex_lock(&b->rlock);
	if (b->nreaders > 0) {
		*out = b->readers[--b->nreaders];
		pthread_mutex_unlock(&b->rlock);
		return 0;
	}
	pthread_mutex_unlock(&b->rlock);
	return db_open(b->path, false, b->sync, out, err);
}

static void reader_put(struct sqlite_backend *b, sqlite3 *db)
{
	pthread_mutex_lock(&b->rlock);
	if (b->nreaders < READER_POOL_MAX) {
		b->readers[b->nreaders++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&b->rlock);
	if (db)
		sqlite3_close(db);
}

static char *blob_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *s = sk_malloc(n + 1);

	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	*len = n;
	return s;
}

/* ---- writes ---------------------------------------------------------------- */

/* The newest row of key: 1 when found (filling the outputs), 0 when none. */
static int latest_row(struct sqlite_backend *b, const char *key, int64_t *rev, int64_t *create_rev,
		      bool *deleted, char **value, size_t *len, sk_err *err)
{
	sqlite3_stmt *st = b->st_latest;
	int rc, found = 0;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*rev = sqlite3_column_int64(st, 0);
		*create_rev = sqlite3_column_int64(st, 1);
		*deleted = sqlite3_column_int(st, 2) != 0;
		*value = blob_dup(st, 3, len);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		found = db_err(err, b->wdb, "read key");
	}
	sqlite3_reset(st);
	return found;
}

static int insert_row(struct sqlite_backend *b, int64_t rev, const char *key, int64_t create_rev,
		      int64_t prev_rev, bool deleted, const char *value, size_t len, sk_err *err)
{
	sqlite3_stmt *st = b->st_insert;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, create_rev);
	sqlite3_bind_int64(st, 4, prev_rev);
	sqlite3_bind_int(st, 5, deleted);
	sqlite3_bind_blob(st, 6, value, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_err(err, b->wdb, "write key");
	return 0;
}

/* Apply one op inside the open transaction. Returns < 0 only for a
 * storage failure (the transaction is then abandoned); a refused op
 * (exists, missing, conflict) sets op->result and returns 0. */
static int txn_one(struct sqlite_backend *b, srv_store_op *op, int64_t *rev, sk_err *err)
{
	_cleanup_free_ char *old = NULL;
	int64_t old_rev = 0, old_create = 0;
	size_t old_len = 0;
	bool deleted = true;
	int found;

	found = latest_row(b, op->key, &old_rev, &old_create, &deleted, &old, &old_len, err);
	if (found < 0)
		return -1;
	bool exists = found && !deleted;
	if (op->kind == SRV_OP_CREATE && exists) {
		op->result = -SRV_STORE_EXISTS;
		op->rev = old_rev;
		return 0;
	}
	if (op->kind != SRV_OP_CREATE && !exists) {
		op->result = -SRV_STORE_NOT_FOUND;
		return 0;
	}
	if (op->kind != SRV_OP_CREATE && op->expect_rev && op->expect_rev != old_rev) {
		op->result = -SRV_STORE_CONFLICT;
		op->rev = old_rev;
		return 0;
	}

	int64_t next = *rev + 1;
	char *value = NULL;
	size_t len = 0;
	sk_err eerr = {0};
	if (op->encode(next, op->encode_ctx, &value, &len, &eerr) < 0) {
		sk_err_set(err, EINVAL, "encode %s: %s", op->key, eerr.msg);
		return -1;
	}
	op->create_rev = op->kind == SRV_OP_CREATE ? next : old_create;
	op->prev_rev = exists ? old_rev : 0;
	if (insert_row(b, next, op->key, op->create_rev, op->prev_rev, op->kind == SRV_OP_DELETE,
		       value, len, err) < 0) {
		free(value);
		return -1;
	}
	op->result = 0;
	op->rev = next;
	op->value = value;
	op->len = len;
	if (exists) {
		op->prev_value = move_ptr(old);
		op->prev_len = old_len;
	}
	*rev = next;
	return 0;
}

static void ops_reset(srv_store_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ops[i].value);
		free(ops[i].prev_value);
		ops[i].value = ops[i].prev_value = NULL;
		ops[i].len = ops[i].prev_len = 0;
		ops[i].rev = 0;
	}
}

static int sqlite_txn(srv_store_backend *be, srv_store_op *ops, size_t n, sk_err *err)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;
	int64_t rev;
	int ret = 0;

	pthread_mutex_lock(&b->wlock);
	rev = atomic_load(&b->cur_rev);
	if (db_exec(b->wdb, "BEGIN IMMEDIATE", err) < 0) {
		pthread_mutex_unlock(&b->wlock);
		return -1;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = txn_one(b, &ops[i], &rev, err);
	if (ret == 0 && db_exec(b->wdb, "COMMIT", err) < 0)
		ret = -1;
	if (ret < 0) {
		sqlite3_exec(b->wdb, "ROLLBACK", NULL, NULL, NULL);
		ops_reset(ops, n);
	} else {
		atomic_store(&b->cur_rev, rev);
	}
	pthread_mutex_unlock(&b->wlock);
	return ret;
}

/* ---- reads ----------------------------------------------------------------- */

/* The first string greater than every string starting with prefix, as a
 * bound for `key < ?`; NULL when there is none ("" or all 0xff). */
static char *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = sk_strndup(prefix, n);

	while (n > 0) {
		unsigned char c = (unsigned char)end[n - 1];
		if (c < 0xff) {
			end[n - 1] = (char)(c + 1);
			end[n] = '\0';
			return end;
		}
		n--;
	}
	free(end);
	return NULL;
}

static int sqlite_get(srv_store_backend *be, const char *key, srv_kv *out, sk_err *err)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int ret = 0, rc;

	if (reader_get(b, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT rev, create_rev, deleted, value FROM kv WHERE key = ?"
			       " ORDER BY rev DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = db_err(err, db, "get");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !sqlite3_column_int(st, 2)) {
		out->key = sk_strdup(key);
		out->mod_rev = sqlite3_column_int64(st, 0);
		out->create_rev = sqlite3_column_int64(st, 1);
		out->value = blob_dup(st, 3, &out->len);
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		ret = sk_err_set(err, SRV_STORE_NOT_FOUND, "%s: not found", key);
	} else {
		ret = db_err(err, db, "get");
	}
out:
	sqlite3_finalize(st);
	reader_put(b, db);
	return ret;
}

static int sqlite_range(srv_store_backend *be, const char *prefix, const char *after, int64_t rev,
			size_t limit, srv_store_kv_fn fn, void *data, bool *more, sk_err *err)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;
	_cleanup_free_ char *end = prefix_end(prefix);
	sqlite3_stmt *st = NULL;
	size_t count = 0;
	sqlite3 *db;
	int ret = 0, rc;

	if (more)
		*more = false;
	if (reader_get(b, &db, err) < 0)
		return -1;
	/* SQLite returns the other columns of the row holding MAX(rev) in each
	 * group: the key's newest row at or before rev. */
	if (sqlite3_prepare_v2(db,
			       "SELECT key, MAX(rev), create_rev, deleted, value FROM kv"
			       " WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) AND key > ?3"
			       " AND rev <= ?4 GROUP BY key ORDER BY key",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = db_err(err, db, "list");
		goto out;
	}
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	if (end)
		sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, rev > 0 ? rev : INT64_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 3))
			continue; /* deleted at that revision */
		if (limit && count == limit) {
			if (more)
				*more = true;
			break;
		}
		srv_kv kv = {
			.key = (char *)sqlite3_column_text(st, 0),
			.mod_rev = sqlite3_column_int64(st, 1),
			.create_rev = sqlite3_column_int64(st, 2),
			.value = (char *)sqlite3_column_blob(st, 4),
			.len = (size_t)sqlite3_column_bytes(st, 4),
		};
		count++;
		if (fn(&kv, data) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_err(err, db, "list");
out:
	sqlite3_finalize(st);
	reader_put(b, db);
	return ret;
}

static int sqlite_replay(srv_store_backend *be, const char *prefix, int64_t after, int64_t upto,
			 srv_store_event_fn fn, void *data, sk_err *err)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;
	_cleanup_free_ char *end = prefix_end(prefix);
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int ret = 0, rc;

	if (reader_get(b, &db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT k.rev, k.key, k.create_rev, k.prev_rev, k.deleted, k.value,"
			       " p.value FROM kv k LEFT JOIN kv p ON p.rev = k.prev_rev"
			       " WHERE k.rev > ?1 AND k.rev <= ?2 AND k.key >= ?3"
			       " AND (?4 IS NULL OR k.key < ?4) ORDER BY k.rev",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = db_err(err, db, "replay");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto > 0 ? upto : INT64_MAX);
	sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
	if (end)
		sqlite3_bind_text(st, 4, end, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool has_prev = sqlite3_column_type(st, 6) != SQLITE_NULL;
		srv_store_event ev = {
			.type = sqlite3_column_int(st, 4) ? SRV_EV_DELETE : SRV_EV_PUT,
			.rev = sqlite3_column_int64(st, 0),
			.key = (const char *)sqlite3_column_text(st, 1),
			.create_rev = sqlite3_column_int64(st, 2),
			.prev_rev = sqlite3_column_int64(st, 3),
			.value = sqlite3_column_blob(st, 5),
			.len = (size_t)sqlite3_column_bytes(st, 5),
			.prev_value = has_prev ? sqlite3_column_blob(st, 6) : NULL,
			.prev_len = has_prev ? (size_t)sqlite3_column_bytes(st, 6) : 0,
		};
		if (fn(&ev, data) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		ret = db_err(err, db, "replay");
out:
	sqlite3_finalize(st);
	reader_put(b, db);
	return ret;
}

/* Keep, for each key, its newest row at or before rev (unless that is a
 * tombstone) and every row after rev; drop the rest. */
static int sqlite_compact(srv_store_backend *be, int64_t rev, sk_err *err)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	pthread_mutex_lock(&b->wlock);
	if (rev <= atomic_load(&b->compacted)) {
		pthread_mutex_unlock(&b->wlock);
		return 0;
	}
	if (db_exec(b->wdb, "BEGIN IMMEDIATE", err) < 0) {
		pthread_mutex_unlock(&b->wlock);
		return -1;
	}
	if (sqlite3_prepare_v2(b->wdb,
			       "DELETE FROM kv WHERE rev <= ?1 AND (deleted = 1 OR EXISTS"
			       " (SELECT 1 FROM kv AS n WHERE n.key = kv.key AND n.rev > kv.rev"
			       " AND n.rev <= ?1))",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, rev) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		ret = db_err(err, b->wdb, "compact");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(b->wdb, "INSERT OR REPLACE INTO meta VALUES ('compact_rev', ?1)", -1,
			       &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, rev) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		ret = db_err(err, b->wdb, "compact");
		goto out;
	}
	ret = db_exec(b->wdb, "COMMIT", err);
out:
	sqlite3_finalize(st);
	if (ret < 0)
		sqlite3_exec(b->wdb, "ROLLBACK", NULL, NULL, NULL);
	else
		atomic_store(&b->compacted, rev);
	pthread_mutex_unlock(&b->wlock);
	return ret;
}

static int64_t sqlite_current_rev(srv_store_backend *be)
{
	return atomic_load(&((struct sqlite_backend *)be)->cur_rev);
}

static int64_t sqlite_compact_rev(srv_store_backend *be)
{
	return atomic_load(&((struct sqlite_backend *)be)->compacted);
}

static void sqlite_close(srv_store_backend *be)
{
	struct sqlite_backend *b = (struct sqlite_backend *)be;

	if (!b)
		return;
	sqlite3_finalize(b->st_latest);
	sqlite3_finalize(b->st_insert);
	sqlite3_close(b->wdb);
	for (int i = 0; i < b->nreaders; i++)
		sqlite3_close(b->readers[i]);
	pthread_mutex_destroy(&b->wlock);
	pthread_mutex_destroy(&b->rlock);
	free(b->path);
	free(b);
}

int srv_sqlite_open(const char *dir, enum srv_sync sync, srv_store_backend **out, sk_err *err)
{
	struct sqlite_backend *b = sk_calloc(1, sizeof(*b));

	b->sync = sync;
	b->be = (srv_store_backend){
		.name = "sqlite",
		.txn = sqlite_txn,
		.get = sqlite_get,
		.range = sqlite_range,
		.replay = sqlite_replay,
		.compact = sqlite_compact,
		.current_rev = sqlite_current_rev,
		.compact_rev = sqlite_compact_rev,
		.close = sqlite_close,
	};
	pthread_mutex_init(&b->wlock, NULL);
	pthread_mutex_init(&b->rlock, NULL);
	b->path = sk_path_join(dir, "state.db");
	if (sk_mkdir_p(dir, 0700, err) < 0 || db_open(b->path, true, sync, &b->wdb, err) < 0 ||
	    db_exec(b->wdb, schema, err) < 0)
		goto fail;
	if (sqlite3_prepare_v3(b->wdb,
			       "SELECT rev, create_rev, deleted, value FROM kv WHERE key = ?"
			       " ORDER BY rev DESC LIMIT 1",
			       -1, SQLITE_PREPARE_PERSISTENT, &b->st_latest, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(b->wdb,
			       "INSERT INTO kv (rev, key, create_rev, prev_rev, deleted, value)"
			       " VALUES (?, ?, ?, ?, ?, ?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &b->st_insert, NULL) != SQLITE_OK) {
		db_err(err, b->wdb, "prepare");
		goto fail;
	}
	atomic_store(&b->compacted, meta_get(b->wdb, "compact_rev"));
	/* Revisions never go back: after a compaction removed the newest
	 * rows (tombstones), the compacted revision is the floor. */
	int64_t top = max_rev(b->wdb);
	atomic_store(&b->cur_rev, top > b->compacted ? top : b->compacted);
	*out = &b->be;
	return 0;
fail:
	sk_err_wrap(err, "open store %s", b->path);
	sqlite_close(&b->be);
	return -1;
}
