/* Unit tests for api_yaml_load on JSON input: documents that start with
 * '{' are read as a stream of JSON values, as kubectl does. */
#include <stdlib.h>

#include "../../api/api.h"
#include "tap.h"

static char *load(const char *text)
{
	json_t *docs = NULL;
	sk_err err = {0};
	char *s;

	if (api_yaml_load(text, strlen(text), "m.json", &docs, &err) < 0)
		return sk_asprintf("error: %s", err.msg);
	s = json_dumps(docs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(docs);
	return s;
}

static void check(const char *text, const char *want, const char *name)
{
	_cleanup_free_ char *got = load(text);

	is_str(got, want, "%s", name);
}

int main(void)
{
	check("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\ud83d\\ude00\"}}",
	      "[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\xf0\x9f\x98\x80\"}}]",
	      "surrogate pairs decode as JSON");
	check("  \n{\"a\":1}\n{\"b\":2} {\"c\":[1,2]}\n", "[{\"a\":1},{\"b\":2},{\"c\":[1,2]}]",
	      "a stream of JSON documents");
	check("{\"on\":\"yes\",\"x\":1.0}", "[{\"on\":\"yes\",\"x\":1.0}]",
	      "JSON scalars stay JSON");
	{
		_cleanup_free_ char *got = load("{\"a\":1}\n\n{\"b\":}");
		like(got, "error: m.json:3:", "errors carry the document's line");
	}
	{
		sk_buf b = {0};
		for (int i = 0; i < 100; i++)
			sk_buf_puts(&b, "{\"a\":");
		sk_buf_puts(&b, "1");
		for (int i = 0; i < 100; i++)
			sk_buf_putc(&b, '}');
		_cleanup_free_ char *got = load(b.data);
		like(got, "nested deeper than", "depth is bounded");
		sk_buf_free(&b);
	}
	check("kind: Pod\n", "[{\"kind\":\"Pod\"}]", "YAML still goes through the YAML reader");
	return done_testing();
}
