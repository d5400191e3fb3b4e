/* api_yaml_dump and api_json_dump against what kubectl 1.33 printed for
 * the same objects (tests/unit/data/kubectl_print: X.in.json was served to
 * `kubectl get -o yaml|json`, X.yaml and X.json are its output), plus
 * small cases that pin the rules one at a time. */
#include "../../api/api.h"
#include "tap.h"

static char *dump(json_t *v, bool yaml)
{
	sk_buf b;

	sk_buf_init(&b);
	if (yaml)
		api_yaml_dump(v, &b);
	else
		api_json_dump(v, &b);
	return sk_buf_steal(&b);
}

static void fixture(const char *name)
{
	const char *top = getenv("SKIFF_TOP") ? getenv("SKIFF_TOP") : ".";
	_cleanup_free_ char *in =
		sk_asprintf("%s/tests/unit/data/kubectl_print/%s.in.json", top, name);
	json_error_t je;
	json_t *obj = json_load_file(in, 0, &je);

	ok(obj != NULL, "%s loads (%s)", in, obj ? "ok" : je.text);
	if (!obj)
		return;
	for (int yaml = 1; yaml >= 0; yaml--) {
		_cleanup_free_ char *path = sk_asprintf("%s/tests/unit/data/kubectl_print/%s.%s",
							top, name, yaml ? "yaml" : "json");
		_cleanup_free_ char *want = NULL;
		_cleanup_free_ char *got = dump(obj, yaml);
		size_t len;
		sk_err err = {0};

		if (sk_read_file(path, 0, &want, &len, &err) < 0) {
			ok(0, "%s: %s", path, err.msg);
			continue;
		}
		if (!ok(strcmp(got, want) == 0, "%s as kubectl -o %s prints it", name,
			yaml ? "yaml" : "json")) {
			size_t i = 0;

			while (got[i] && got[i] == want[i])
				i++;
			printf("#   first difference at byte %zu:\n#   got  \"%.60s\"\n#   want "
			       "\"%.60s\"\n",
			       i, got + i, want + i);
		}
	}
	json_decref(obj);
}

static void yaml_is(const char *json, const char *want, const char *name)
{
	json_error_t je;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
	_cleanup_free_ char *got = v ? dump(v, true) : NULL;

	is_str(got, want, "%s", name);
	json_decref(v);
}

int main(void)
{
	fixture("x");
	fixture("y");
	fixture("r");
	yaml_is("{\"b\":1,\"a\":\"x\"}", "a: x\nb: 1\n", "keys sorted");
	yaml_is("{\"a10\":1,\"a2\":2}", "a2: 2\na10: 1\n", "numbers in keys compare as numbers");
	yaml_is("{\"t\":\"2026-11-25T16:52:31Z\"}", "t: \"2026-11-25T16:52:31Z\"\n",
		"timestamps quoted");
	yaml_is("{\"s\":[{\"a\":1,\"b\":[]}]}", "s:\n- a: 1\n  b: []\n",
		"sequence in a mapping is not indented; empty list in flow style");
	yaml_is("{\"p\":\"80\",\"o\":\"on\",\"e\":\"\",\"n\":null}",
		"e: \"\"\n\"n\": null\no: \"on\"\np: \"80\"\n", "look-alikes quoted");
	yaml_is("{\"c\":\"a\\nb\\n\"}", "c: |\n  a\n  b\n", "multi-line strings as literal blocks");
	yaml_is("{\"r\":1.0,\"f\":0.5,\"g\":1e-7}", "f: 0.5\ng: 1e-07\nr: 1\n", "reals as go-yaml");
	yaml_is("[[1,2],{}]", "- - 1\n  - 2\n- {}\n", "nested sequences");
	{
		static const char *const cases[][2] = {
			{"24576Mi", "24Gi"},  {"128Mi", "128Mi"}, {"0.5", "500m"},
			{"100m", "100m"},     {"2000", "2k"},	  {"1500", "1500"},
			{"2", "2"},	      {"1000m", "1"},	  {"512", "512"},
			{"1536Ki", "1536Ki"}, {"0", "0"},	  {"1G", "1G"},
		};

		for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
			json_t *q = json_string(cases[i][0]);
			_cleanup_free_ char *got = api_quantity_string(q);

			is_str(got, cases[i][1], "quantity %s prints as %s", cases[i][0],
			       cases[i][1]);
			json_decref(q);
		}
	}
	{
		/* each rule below was checked against kubectl 1.33 on a live
		 * object (tests/integration/cli_kubectl.t compares more) */
		json_error_t je;
		json_t *obj = json_loads("{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":"
					 "\"a\",\"labels\":{\"x\":\"<1>\"}},"
					 "\"spec\":{\"n\":2,\"ports\":[{\"port\":80},{\"port\":443}"
					 "]},\"status\":{\"phase\":\"Running\"}},"
					 "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"n\":0.5},"
					 "\"status\":{\"phase\":\"Pending\"}}]}",
					 0, &je);
		static const char *const cases[][2] = {
			{"{.items[*].metadata.name}", "a b"},
			{"{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}",
			 "a\tRunning\nb\tPending\n"},
			{"{range.items[*]}[{.metadata.name}]{end}", "[a][b]"},
			{"{.items[?(@.status.phase==\"Pending\")].metadata.name}", "b"},
			{"{.items[?(@.spec.ports)].metadata.name}", "a"},
			{"{.items[0].metadata.labels}", "{\"x\":\"\\u003c1\\u003e\"}"},
			{"{.items[0].spec.ports[*].port} {.items[-1].spec.n}", "80 443 0.5"},
			{"{.items[0].spec.ports[1:].port}{.missing}|{..port}", "443|80 443"},
			{"{$.kind}{'\\n'}", "List\n"},
		};

		for (size_t i = 0; obj && i < SK_ARRAY_SIZE(cases); i++) {
			sk_buf out;
			sk_err err = {0};

			sk_buf_init(&out);
			ok(api_jsonpath(cases[i][0], obj, &out, &err) == 0, "jsonpath %s runs",
			   cases[i][0]);
			is_str(out.data ? out.data : "", cases[i][1],
			       "jsonpath %s prints as kubectl", cases[i][0]);
			sk_buf_free(&out);
		}
		{
			sk_buf out;
			sk_err err = {0};

			sk_buf_init(&out);
			ok(api_jsonpath("{.items[5]}", obj, &out, &err) < 0,
			   "index out of bounds fails");
			like(err.msg, "array index out of bounds: index 5, length 2",
			     "with kubectl's words");
			ok(api_jsonpath("{.items", obj, &out, &err) < 0, "unclosed action fails");
			is_str(err.msg, "error parsing jsonpath {.items, unclosed action",
			       "parse error");
			sk_buf_free(&out);
		}
		json_decref(obj);
	}
	return done_testing();
}
