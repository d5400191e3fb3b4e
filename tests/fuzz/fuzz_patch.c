/* libFuzzer entry: patches. The input is "<kind byte><document>\0<patch>":
 * both halves JSON. A list patch goes through RFC 6902; an object patch
 * through RFC 7386, the strategic merge patch of the chosen kind, and
 * kubectl's three-way apply (document as last-applied and live, patch as
 * the new configuration) whose result is applied back. */
#include <string.h>

#include "../../api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *load(const uint8_t *p, size_t n)
{
	json_error_t e;

	return json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	size_t nkinds;
	const api_kind *kinds = api_kinds(&nkinds), *k;
	json_t *doc, *patch, *out = NULL, *p3 = NULL;
	sk_err err = {0};

	if (size < 2 || size > 65536)
		return 0;
	k = data[0] % (nkinds + 1) == nkinds ? NULL : &kinds[data[0] % (nkinds + 1)];
	data++;
	size--;
	nul = memchr(data, 0, size);
	if (!nul)
		return 0;
	doc = load(data, (size_t)(nul - data));
	patch = load(nul + 1, size - (size_t)(nul - data) - 1);
	if (!doc || !patch)
		goto out;
	if (json_is_array(patch)) {
		if (api_json_patch(doc, patch, &out, &err) == 0)
			json_decref(out);
		goto out;
	}
	if (api_merge_patch(doc, patch, &out, &err) == 0)
		json_decref(out);
	if (api_strategic_merge_patch(k, doc, patch, &out, &err) == 0)
		json_decref(out);
	if (json_is_object(doc) && json_is_object(patch) &&
	    api_apply_patch(k, doc, patch, doc, &p3, &err) == 0) {
		if (api_strategic_merge_patch(k, doc, p3, &out, &err) == 0)
			json_decref(out);
		json_decref(p3);
	}
	if (json_is_object(patch)) {
		json_t *m = api_apply_modified(patch);
		json_decref(m);
	}
out:
	json_decref(doc);
	json_decref(patch);
	return 0;
}
