/* store: the server's revisioned key-value store, behind one interface so
 * that the embedded SQLite backend and (later) etcd are interchangeable.
 *
 * The model is etcd's: every successful write gets the next global
 * revision; each key remembers the revision it was created at and last
 * modified at; a log of revisions lets readers list the keyspace as it was
 * at a revision and replay every change after one, until compaction drops
 * history older than the compacted revision. Values are opaque bytes
 * (the server stores JSON).
 *
 * Writes go through srv_store_write(): a single writer thread takes every
 * write queued at that moment and commits them as one transaction (group
 * commit), so concurrent clients share the cost of one durable flush. A
 * write returns only once it is durable, and after the store's event sink
 * has seen it, so a reader that asks the cache afterwards sees its own
 * write. */
#ifndef SKIFF_SERVER_STORE_H
#define SKIFF_SERVER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/common.h"

/* err->code values that callers branch on. */
#define SRV_STORE_EXISTS EEXIST	   /* create: the key exists */
#define SRV_STORE_NOT_FOUND ENOENT /* update/delete/get: no such key */
#define SRV_STORE_CONFLICT ESTALE  /* update/delete: revision mismatch */
#define SRV_STORE_COMPACTED ERANGE /* a revision older than the compaction */
#define SRV_STORE_FUTURE EAGAIN	   /* a revision newer than the store */

/* One key as stored. */
typedef struct srv_kv {
	char *key;
	char *value;
	size_t len;
	int64_t mod_rev;
	int64_t create_rev;
} srv_kv;
void srv_kv_clear(srv_kv *kv);

enum srv_store_op_kind { SRV_OP_CREATE, SRV_OP_UPDATE, SRV_OP_DELETE };

/* Produces the bytes to store for a write that will get revision `rev`
 * (the server writes the revision into metadata.resourceVersion). For a
 * delete the bytes are the tombstone: the object's last state, which a
 * DELETED watch event carries. */
typedef int (*srv_store_encode_fn)(int64_t rev, void *ctx, char **value, size_t *len, sk_err *err);

/* One write. `expect_rev`: for update and delete, the key's current
 * modification revision must equal it (compare-and-swap); 0 accepts any.
 * `hint` is passed untouched to the event sink with this write's event
 * (the server hands over the parsed object so that the cache need not
 * parse the bytes again). */
typedef struct srv_store_op {
	enum srv_store_op_kind kind;
	const char *key;
	int64_t expect_rev;
	srv_store_encode_fn encode;
	void *encode_ctx;
	void *hint;
	bool keep_value; /* hand the written value (plaintext) back in value/len */
	/* results, filled by the write */
	int result;	    /* 0, or -SRV_STORE_EXISTS/NOT_FOUND/CONFLICT */
	int64_t rev;	    /* the revision the write got */
	int64_t create_rev; /* of the key */
	int64_t prev_rev;   /* the key's previous modification revision */
	/* backend to generic layer: the bytes stored and the bytes before
	 * (as stored, i.e. possibly encrypted); freed by the store, except
	 * that with keep_value the caller gets the plaintext in value and
	 * frees it */
	char *value;
	size_t len;
	char *prev_value;
	size_t prev_len;
} srv_store_op;

/* A change, as the sink and the event log see it. For deletes `value` is
 * the tombstone and `prev_value` the state before. */
enum srv_event_type { SRV_EV_PUT, SRV_EV_DELETE };
typedef struct srv_store_event {
	enum srv_event_type type;
	const char *key;
	int64_t rev;
	int64_t create_rev;
	int64_t prev_rev; /* 0 when the key was created by this change */
	const char *value;
	size_t len;
	const char *prev_value; /* NULL when unknown or created */
	size_t prev_len;
	void *hint;
} srv_store_event;

/* Called from the writer thread after each commit, once per event, in
 * revision order, before the writers are released. Must not block. */
typedef void (*srv_store_sink_fn)(const srv_store_event *ev, void *data);
/* Receives each key of a list or each event of a replay; < 0 stops. */
typedef int (*srv_store_kv_fn)(const srv_kv *kv, void *data);
typedef int (*srv_store_event_fn)(const srv_store_event *ev, void *data);

/* ---- backends ------------------------------------------------------------
 * A backend executes batches and reads; the generic layer adds the writer
 * thread, group commit, value encryption and the sink. Every function may
 * be called from any thread; txn only from the writer thread. */
typedef struct srv_store_backend srv_store_backend;
struct srv_store_backend {
	const char *name;
	/* Run ops[0..n) in one durable transaction, in order. Each op gets
	 * its outcome in op->result; a successful one its revisions, the bytes
	 * its encode callback produced (op->value) and the key's previous
	 * bytes (op->prev_value). Returns < 0 only when the transaction as a
	 * whole failed: then nothing was written. */
	int (*txn)(srv_store_backend *be, srv_store_op *ops, size_t n, sk_err *err);
	int (*get)(srv_store_backend *be, const char *key, srv_kv *out, sk_err *err);
	/* Keys with the prefix, in key order, strictly after `after` (NULL:
	 * from the start), as of revision rev (0: the current one), at most
	 * limit (0: no limit); *more tells whether keys remain. */
	int (*range)(srv_store_backend *be, const char *prefix, const char *after, int64_t rev,
		     size_t limit, srv_store_kv_fn fn, void *data, bool *more, sk_err *err);
	/* Every change to keys with the prefix with after < rev <= upto
	 * (upto 0: no bound), in revision order. */
	int (*replay)(srv_store_backend *be, const char *prefix, int64_t after, int64_t upto,
		      srv_store_event_fn fn, void *data, sk_err *err);
	/* Drop history older than rev (keeping each key's state at rev). */
	int (*compact)(srv_store_backend *be, int64_t rev, sk_err *err);
	int64_t (*current_rev)(srv_store_backend *be);
	int64_t (*compact_rev)(srv_store_backend *be);
	void (*close)(srv_store_backend *be);
};

/* How a commit reaches the disk. FULL: the WAL is fsynced at each commit,
 * so an acknowledged write survives a power cut; NORMAL: only at
 * checkpoints, so it survives the process being killed (the data is in
 * the kernel) but the last commits may roll back after a power cut. */
enum srv_sync { SRV_SYNC_FULL, SRV_SYNC_NORMAL };

/* The SQLite backend in DIR/state.db (WAL mode; see docs/server.md for
 * the durability settings). */
int srv_sqlite_open(const char *dir, enum srv_sync sync, srv_store_backend **out, sk_err *err);

/* ---- the store ----------------------------------------------------------- */
typedef struct srv_store srv_store;

/* Take ownership of a backend and start the writer thread. */
int srv_store_open(srv_store_backend *be, srv_store **out, sk_err *err);
void srv_store_close(srv_store *st);
/* Encrypt the values of keys starting with `prefix` (e.g. "secrets/") at
 * rest with AES-256-GCM under the 32-byte key; reads decrypt. Call before
 * any write. */
int srv_store_encrypt_prefix(srv_store *st, const char *prefix, const unsigned char key[32],
			     sk_err *err);
/* Where committed changes go (the cache). One sink; set before writes. */
void srv_store_set_sink(srv_store *st, srv_store_sink_fn fn, void *data);

/* How many writes are on their way (a hint): while some are, the writer
 * waits up to delay_us for them to join the batch, so that one fsync
 * serves them all. */
void srv_store_set_batch_hint(srv_store *st, int (*pending)(void *data), void *data, int delay_us);

/* Run one write and wait until it is durable and the sink has seen it.
 * Errors: SRV_STORE_EXISTS, SRV_STORE_NOT_FOUND, SRV_STORE_CONFLICT in
 * err->code; anything else is a storage failure. */
int srv_store_write(srv_store *st, srv_store_op *op, sk_err *err);
int srv_store_get(srv_store *st, const char *key, srv_kv *out, sk_err *err);
/* As the backend's range and replay, with values decrypted. A revision
 * below the compacted one fails with SRV_STORE_COMPACTED, one above the
 * current with SRV_STORE_FUTURE. */
int srv_store_range(srv_store *st, const char *prefix, const char *after, int64_t rev, size_t limit,
		    srv_store_kv_fn fn, void *data, bool *more, sk_err *err);
int srv_store_replay(srv_store *st, const char *prefix, int64_t after, int64_t upto,
		     srv_store_event_fn fn, void *data, sk_err *err);
int srv_store_compact(srv_store *st, int64_t rev, sk_err *err);
int64_t srv_store_current_rev(srv_store *st);
int64_t srv_store_compact_rev(srv_store *st);
/* Writes committed and transactions run so far (for metrics and bench). */
void srv_store_stats(srv_store *st, uint64_t *writes, uint64_t *txns);

#endif
