/* libFuzzer entry: resource quantities ("100m", "1.5Gi", "2e3"). */
#include <stdlib.h>

#include "../../api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t milli, value;
	sk_err err = {0};

	memcpy(s, data, size);
	s[size] = 0;
	if (api_quantity_milli(s, &milli, &err) == 0) {
		/* Parsed quantities are never negative, and whole units round up. */
		if (milli < 0 || api_quantity_value(s, &value, &err) < 0 ||
		    (__int128)value * 1000 < milli)
			abort();
	}
	free(s);
	return 0;
}
