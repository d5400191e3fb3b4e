/* libFuzzer entry: a request body (api_json_parse), then the server's
 * create and update paths for every kind: check, default, prepare,
 * validate (also against itself as the old object), Status and Table. */
#include "../../api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = NULL;
	sk_err err = {0};
	size_t n;
	const api_kind *kinds = api_kinds(&n);

	if (api_json_parse((const char *)data, size, &obj, &err) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const api_kind *k = &kinds[i];
		json_t *o = json_deep_copy(obj), *old, *causes, *st, *row;
		if (api_kind_check(k, o, &err) < 0) {
			json_decref(o);
			continue;
		}
		api_default(k, o);
		api_prepare_create(k, o);
		causes = api_validate(k, o, NULL);
		st = api_status_invalid(k, api_meta_name(o), causes);
		json_decref(st);
		json_decref(causes);
		old = json_deep_copy(o);
		api_prepare_update(k, o, old);
		causes = api_validate(k, o, old);
		json_decref(causes);
		api_prepare_status_update(k, o, old);
		causes = api_validate_status(k, o, old);
		json_decref(causes);
		row = api_table_row(k, o, 1795626000, API_TABLE_OBJECT);
		json_decref(row);
		json_decref(old);
		json_decref(o);
	}
	json_decref(obj);
	return 0;
}
