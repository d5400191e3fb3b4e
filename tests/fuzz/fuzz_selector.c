/* libFuzzer entry: label and field selectors. The input is parsed as a
 * label selector and as a field selector for pods and events; what
 * parses is matched against a few objects and printed back, and the
 * printed form must parse again. */
#include <stdlib.h>

#include "../../api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	api_selector *sel = NULL, *again = NULL;
	sk_err err = {0};
	json_t *labels = json_pack("{s:s, s:s, s:s}", "app", "web", "tier", "5", "x", "");
	json_t *pod =
		json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "metadata", "name", "p", "namespace",
			  "default", "spec", "nodeName", "n1", "status", "phase", "Running");

	memcpy(s, data, size);
	s[size] = 0;
	if (api_label_selector_parse(s, &sel, &err) == 0) {
		bool nothing;
		char *str = api_selector_string(sel, &nothing);
		api_label_selector_matches(sel, labels);
		api_label_selector_matches(sel, NULL);
		/* The canonical form of a valid selector is a valid selector. */
		if (api_label_selector_parse(str, &again, &err) < 0)
			abort();
		api_selector_free(again);
		free(str);
		api_selector_free(sel);
	}
	if (api_field_selector_parse(api_kind_by_kind("", "Pod"), s, &sel, &err) == 0) {
		api_field_selector_matches(sel, pod);
		api_selector_free(sel);
	}
	if (api_field_selector_parse(api_kind_by_kind("", "Event"), s, &sel, &err) == 0) {
		api_field_selector_matches(sel, pod);
		api_selector_free(sel);
	}
	json_decref(labels);
	json_decref(pod);
	free(s);
	return 0;
}
