/* Random identifiers: uids and generateName suffixes. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void random_bytes(void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* the kernel's CSPRNG is always there on Linux >= 3.17 */
		}
		p += r;
		n -= (size_t)r;
	}
}

void sk_uuid4(char *buf, size_t n)
{
	unsigned char u[16];

	random_bytes(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(buf, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

void sk_random_alnum(char *buf, size_t n)
{
	/* Kubernetes leaves out vowels and look-alikes so no words are formed */
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[64];

	if (n > sizeof(r))
		n = sizeof(r);
	random_bytes(r, n);
	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	buf[n] = '\0';
}
