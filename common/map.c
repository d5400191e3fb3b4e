/* A string-keyed hash map (separate chaining, doubling at load 1): the
 * indexes controllers and the scheduler keep of the objects they watch. */
#include "common.h"

struct sk_map_entry {
	char *key;
	void *value;
	uint32_t hash;
	struct sk_map_entry *next;
};

struct sk_map {
	struct sk_map_entry **buckets;
	size_t nbuckets, len;
	void (*free_value)(void *);
};

/* FNV-1a */
static uint32_t hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

sk_map *sk_map_new(void (*free_value)(void *))
{
	sk_map *m = sk_calloc(1, sizeof(*m));

	m->nbuckets = 16;
	m->buckets = sk_calloc(m->nbuckets, sizeof(*m->buckets));
	m->free_value = free_value;
	return m;
}

void sk_map_clear(sk_map *m)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct sk_map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			if (m->free_value)
				m->free_value(e->value);
			free(e->key);
			free(e);
		}
		m->buckets[i] = NULL;
	}
	m->len = 0;
}

void sk_map_free(sk_map *m)
{
	if (!m)
		return;
	sk_map_clear(m);
	free(m->buckets);
	free(m);
}

static struct sk_map_entry **find(const sk_map *m, const char *key, uint32_t h)
{
	struct sk_map_entry **pp = &m->buckets[h & (m->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strcmp((*pp)->key, key))
			break;
	return pp;
}

static void grow(sk_map *m)
{
	size_t n = m->nbuckets * 2;
	struct sk_map_entry **b = sk_calloc(n, sizeof(*b));

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct sk_map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

void *sk_map_get(const sk_map *m, const char *key)
{
	struct sk_map_entry *e = *find(m, key, hash_key(key));

	return e ? e->value : NULL;
}

void sk_map_set(sk_map *m, const char *key, void *value)
{
	uint32_t h = hash_key(key);
	struct sk_map_entry **pp = find(m, key, h), *e = *pp;

	if (e) {
		if (m->free_value && e->value != value)
			m->free_value(e->value);
		e->value = value;
		return;
	}
	e = sk_calloc(1, sizeof(*e));
	e->key = sk_strdup(key);
	e->value = value;
	e->hash = h;
	*pp = e;
	if (++m->len > m->nbuckets)
		grow(m);
}

void *sk_map_take(sk_map *m, const char *key)
{
	struct sk_map_entry **pp = find(m, key, hash_key(key)), *e = *pp;
	void *v;

	if (!e)
		return NULL;
	*pp = e->next;
	v = e->value;
	free(e->key);
	free(e);
	m->len--;
	return v;
}

bool sk_map_del(sk_map *m, const char *key)
{
	struct sk_map_entry *e = *find(m, key, hash_key(key));

	if (!e)
		return false;
	void *v = sk_map_take(m, key);
	if (m->free_value)
		m->free_value(v);
	return true;
}

size_t sk_map_len(const sk_map *m)
{
	return m->len;
}

bool sk_map_next(const sk_map *m, sk_map_iter *it, const char **key, void **value)
{
	struct sk_map_entry *e = it->entry_ ? ((struct sk_map_entry *)it->entry_)->next : NULL;

	while (!e && it->bucket_ < m->nbuckets)
		e = m->buckets[it->bucket_++];
	it->entry_ = e;
	if (!e)
		return false;
	if (key)
		*key = e->key;
	if (value)
		*value = e->value;
	return true;
}
