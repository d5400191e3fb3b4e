/* Unit tests for api/yaml.c: YAML to JSON as Kubernetes reads it. */
#include <stdlib.h>

#include "../../api/api.h"
#include "tap.h"

static json_t *load1(const char *text, sk_err *err)
{
	json_t *docs = NULL;

	if (api_yaml_load(text, strlen(text), "t.yaml", &docs, err) < 0)
		return NULL;
	json_t *d = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return d;
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
}

static void check(const char *yaml, const char *want, const char *name)
{
	sk_err err = {0};
	json_t *j = load1(yaml, &err);
	_cleanup_free_ char *got = j ? dump(j) : sk_strdup(err.msg);

	is_str(got, want, "%s", name);
	json_decref(j);
}

int main(void)
{
	sk_err err = {0};
	json_t *docs = NULL;

	check("kind: Service\napiVersion: v1\nmetadata:\n  name: test-service\nspec:\n"
	      "  selector:\n    app: test-app\n  ports:\n  - protocol: TCP\n    port: 80\n"
	      "    targetPort: 8888\n",
	      "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"test-service\"}"
	      ","
	      "\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":8888}],"
	      "\"selector\":{\"app\":\"test-app\"}}}",
	      "the seed's Service");
	check("a: yes\nb: 'yes'\nc: ~\nd: 1.5\ne: \"80\"\nf: 0x10\ng: off\nh: 1e3\ni: 2026-01-01\n",
	      "{\"a\":true,\"b\":\"yes\",\"c\":null,\"d\":1.5,\"e\":\"80\",\"f\":16,\"g\":false,"
	      "\"h\":1000.0,\"i\":\"2026-01-01\"}",
	      "YAML 1.1 scalars");
	check("x: &a {p: 1}\ny: *a\nz:\n  <<: *a\n  q: 2\n",
	      "{\"x\":{\"p\":1},\"y\":{\"p\":1},\"z\":{\"p\":1,\"q\":2}}",
	      "anchors, aliases, merge");
	check("{\"json\": [1, 2, {\"ok\": true}]}", "{\"json\":[1,2,{\"ok\":true}]}", "JSON input");
	check("cmd: |\n  echo hi\n  echo there\n", "{\"cmd\":\"echo hi\\necho there\\n\"}",
	      "block scalar");

	ok(api_yaml_load("a: 1\n---\nb: 2\n---\n", 17, "m.yaml", &docs, &err) == 0 &&
		   json_array_size(docs) == 2,
	   "multi-document, empty ones dropped");
	json_decref(docs);

	const char *bad = "kind: Pod\nmetadata:\n  name: x\n spec: 1\n";
	ok(api_yaml_load(bad, strlen(bad), "pod.yaml", &docs, &err) < 0, "malformed YAML fails");
	like(err.msg, "pod.yaml:4:", "error names file and line");

	/* billion laughs: nine levels of ten aliases each */
	sk_buf b;
	sk_buf_init(&b);
	sk_buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++) {
		sk_buf_printf(&b, "a%d: &a%d [", i, i);
		for (int k = 0; k < 10; k++)
			sk_buf_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
		sk_buf_puts(&b, "]\n");
	}
	ok(api_yaml_load(b.data, b.len, "bomb.yaml", &docs, &err) < 0, "alias bomb is refused");
	like(err.msg, "too large", "alias bomb error says why");
	sk_buf_free(&b);

	sk_buf_init(&b);
	for (int i = 0; i < 100; i++)
		sk_buf_puts(&b, "[");
	ok(api_yaml_load(b.data, b.len, "deep.yaml", &docs, &err) < 0, "deep nesting is refused");
	sk_buf_free(&b);
	return done_testing();
}
