/* Unit tests for api/quantity.c. */
#include "../../api/api.h"
#include "tap.h"

static void milli(const char *s, int64_t want)
{
	sk_err err = {0};
	int64_t got = -1;

	if (!ok(api_quantity_milli(s, &got, &err) == 0 && got == want, "quantity %s = %lld milli",
		s, (long long)want))
		printf("#   got %lld (%s)\n", (long long)got, err.msg);
}

static void bad(const char *s)
{
	sk_err err = {0};
	int64_t got;

	ok(api_quantity_milli(s, &got, &err) < 0 && err.msg[0], "quantity \"%s\" rejected: %s", s,
	   err.msg);
}

int main(void)
{
	int64_t v = 0;
	sk_err err = {0};

	milli("100m", 100);
	milli("1", 1000);
	milli("0.5", 500);
	milli("1.5", 1500);
	milli("2", 2000);
	milli("1Ki", 1024000);
	milli("128Mi", 134217728000LL);
	milli("1G", 1000000000000LL);
	milli("1e3", 1000000);
	milli("1E-3", 1);
	milli("0.0001", 1);
	milli("250n", 1);
	milli("+3", 3000);
	milli(".5", 500);
	milli("5.", 5000);
	bad("");
	bad("-1");
	bad("1Q");
	bad("abc");
	bad("1..2");
	bad("100000Ei");
	ok(api_quantity_value("1.5", &v, &err) == 0 && v == 2, "value rounds up");
	ok(api_quantity_value("128Mi", &v, &err) == 0 && v == 134217728, "value of 128Mi");
	return done_testing();
}
