/* Unit tests for common/map.c (sk_map), the index the scheduler and the
 * controllers keep of what they watch: set/get/replace/take/delete,
 * growth past many buckets, iteration, values freed by the map. */
#include "../../common/common.h"
#include "tap.h"

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

int main(void)
{
	sk_map *m = sk_map_new(count_free);
	char key[32];

	ok(sk_map_get(m, "a") == NULL, "empty map: nothing");
	sk_map_set(m, "a", sk_strdup("1"));
	is_str(sk_map_get(m, "a"), "1", "get what was set");
	sk_map_set(m, "a", sk_strdup("2"));
	is_str(sk_map_get(m, "a"), "2", "set replaces");
	is_int(freed, 1, "... and frees the old value");
	is_int(sk_map_len(m), 1, "one key");

	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "ns/pod-%d", i);
		sk_map_set(m, key, sk_strdup(key));
	}
	is_int(sk_map_len(m), 10001, "10,001 keys after growing");
	int found = 0;
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "ns/pod-%d", i);
		found += sk_streq(sk_map_get(m, key), key);
	}
	is_int(found, 10000, "every key finds its value");

	sk_map_iter it = {0};
	const char *k;
	void *v;
	int seen = 0, match = 0;
	while (sk_map_next(m, &it, &k, &v)) {
		seen++;
		match += !strcmp(k, "a") ? sk_streq(v, "2") : sk_streq(k, v);
	}
	is_int(seen, 10001, "iteration visits every key once");
	is_int(match, 10001, "... with its value");

	char *taken = sk_map_take(m, "ns/pod-7");
	is_str(taken, "ns/pod-7", "take returns the value");
	ok(sk_map_get(m, "ns/pod-7") == NULL, "... and removes the key");
	int before = freed;
	free(taken);
	is_int(freed, before, "... without freeing it");
	ok(sk_map_del(m, "ns/pod-8"), "del finds the key");
	is_int(freed, before + 1, "... and frees its value");
	ok(!sk_map_del(m, "ns/pod-8"), "del of a missing key is false");
	ok(sk_map_take(m, "nope") == NULL, "take of a missing key is NULL");
	is_int(sk_map_len(m), 9999, "length follows");

	before = freed;
	sk_map_clear(m);
	is_int(freed - before, 9999, "clear frees every value");
	is_int(sk_map_len(m), 0, "... and empties the map");
	memset(&it, 0, sizeof(it));
	ok(!sk_map_next(m, &it, &k, &v), "an empty map iterates nothing");
	sk_map_set(m, "again", sk_strdup("x"));
	is_str(sk_map_get(m, "again"), "x", "usable after clear");
	sk_map_free(m);
	sk_map_free(NULL);

	sk_map *plain = sk_map_new(NULL);
	sk_map_set(plain, "k", (void *)1);
	sk_map_set(plain, "k", (void *)2);
	ok(sk_map_get(plain, "k") == (void *)2, "a map without free_value holds plain values");
	sk_map_free(plain);
	return done_testing();
}
