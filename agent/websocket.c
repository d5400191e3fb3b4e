/* WebSocket framing (RFC 6455), as much as the Kubernetes streaming
 * protocols need: the handshake key, and binary/text/close/ping/pong
 * frames, masked from clients. Pure functions over buffers, bounded:
 * shared by the agent's exec endpoint and `skiff exec`. */
#include "agent.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

void agent_ws_accept_key(const char *key, char out[29])
{
	_cleanup_free_ char *text = sk_asprintf("%s" WS_GUID, key);
	unsigned char digest[20];

	gnutls_hash_fast(GNUTLS_DIG_SHA1, text, strlen(text), digest);
	base64(digest, sizeof(digest), out);
}

void agent_ws_new_key(char out[25])
{
	unsigned char raw[16];

	gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw));
	base64(raw, sizeof(raw), out);
}

void agent_ws_frame(sk_buf *out, int opcode, const void *payload, size_t len, bool mask)
{
	unsigned char hdr[14];
	size_t h = 0;
	unsigned char key[4] = {0};

	hdr[h++] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		hdr[h++] = (unsigned char)len;
	} else if (len <= 0xffff) {
		hdr[h++] = 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		hdr[1] |= 0x80;
		gnutls_rnd(GNUTLS_RND_NONCE, key, sizeof(key));
		memcpy(hdr + h, key, 4);
		h += 4;
	}
	sk_buf_append(out, hdr, h);
	size_t start = out->len;
	sk_buf_append(out, payload, len);
	if (mask)
		for (size_t i = 0; i < len; i++)
			out->data[start + i] ^= (char)key[i & 3];
}

int agent_ws_parse(const void *buf, size_t len, size_t max_payload, struct agent_ws_frame *f,
		   sk_err *err)
{
	const unsigned char *p = buf;
	size_t h = 2;
	uint64_t n;

	if (len < 2)
		return 0;
	if (p[0] & 0x70)
		return sk_err_set(err, EPROTO, "websocket: reserved bits set");
	f->fin = p[0] & 0x80;
	f->opcode = p[0] & 0x0f;
	f->masked = p[1] & 0x80;
	n = p[1] & 0x7f;
	if (n == 126) {
		if (len < 4)
			return 0;
		n = (uint64_t)p[2] << 8 | p[3];
		h = 4;
	} else if (n == 127) {
		if (len < 10)
			return 0;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | p[2 + i];
		h = 10;
	}
	if (f->opcode >= 8 && (n > 125 || !f->fin))
		return sk_err_set(err, EPROTO, "websocket: bad control frame");
	if (n > max_payload)
		return sk_err_set(err, EMSGSIZE, "websocket: a frame of %llu bytes is too large",
				  (unsigned long long)n);
	if (f->masked)
		h += 4;
	if (len < h + n)
		return 0;
	f->payload = (unsigned char *)p + h;
	f->len = (size_t)n;
	if (f->masked) {
		const unsigned char *key = p + h - 4;
		for (size_t i = 0; i < f->len; i++)
			f->payload[i] ^= key[i & 3];
	}
	return (int)(h + n);
}
