/* libFuzzer entry: the YAML/JSON manifest loader (api_yaml_load), then
 * each document through kind lookup, defaulting, validation and a Table
 * row, as `skiff create -f` and the server would take it. */
#include "../../api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL, *doc;
	sk_err err = {0};
	size_t i;

	if (api_yaml_load((const char *)data, size, "fuzz.yaml", &docs, &err) < 0)
		return 0;
	json_array_foreach (docs, i, doc) {
		const api_kind *k = api_kind_of(doc);
		json_t *causes, *row;
		if (!k || !json_is_object(doc))
			continue;
		api_default(k, doc);
		api_prepare_create(k, doc);
		causes = api_validate(k, doc, NULL);
		json_decref(causes);
		row = api_table_row(k, doc, 1795626000, API_TABLE_METADATA);
		json_decref(row);
	}
	json_decref(docs);
	return 0;
}
