/* Credentials made at first start, kept in the data dir (mode 0600):
 *   tls/ca.crt, tls/ca.key   a CA (ECDSA P-256, 10 years)
 *   tls/server.crt, .key     the serving certificate, signed by the CA and
 *                            re-issued at every start, so its names always
 *                            cover the current listen address
 *   token                    the admin bearer token
 *   secrets.key              the AES-256-GCM key for Secrets at rest
 * and the admin kubeconfig that kubectl and skiff use as it is. */
#include "srv_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS 3650
#define SERVER_DAYS 730
#define DAY 86400

static int tls_err(sk_err *err, int r, const char *what)
{
	return sk_err_set(err, EIO, "%s: %s", what, gnutls_strerror(r));
}

static char *datum_str(gnutls_datum_t *d)
{
	char *s = sk_strndup((const char *)d->data, d->size);

	srv_gnutls_free(d->data);
	d->data = NULL;
	return s;
}

static int new_key(gnutls_x509_privkey_t *key, sk_err *err)
{
	int r;

	if ((r = gnutls_x509_privkey_init(key)) < 0)
		return tls_err(err, r, "key");
	r = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (r < 0) {
		gnutls_x509_privkey_deinit(*key);
		return tls_err(err, r, "generate a key");
	}
	return 0;
}

static int crt_basics(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days,
		      sk_err *err)
{
	unsigned char serial[16];
	time_t now = time(NULL);
	int r;

	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* a positive serial number */
	if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * DAY)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
					       (unsigned)strlen(cn))) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0)
		return tls_err(err, r, "certificate fields");
	return 0;
}

static int make_ca(char **crt_pem, char **key_pem, sk_err *err)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {0};
	unsigned char id[64];
	size_t idlen = sizeof(id);
	int r, ret = -1;

	if (new_key(&key, err) < 0)
		return -1;
	if ((r = gnutls_x509_crt_init(&crt)) < 0) {
		gnutls_x509_privkey_deinit(key);
		return tls_err(err, r, "certificate");
	}
	if (crt_basics(crt, key, "skiff-ca", CA_DAYS, err) < 0)
		goto out;
	if ((r = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
							    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_get_key_id(crt, 0, id, &idlen)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0) {
		tls_err(err, r, "sign the CA");
		goto out;
	}
	if ((r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d)) < 0) {
		tls_err(err, r, "export the CA");
		goto out;
	}
	*crt_pem = datum_str(&d);
	if ((r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d)) < 0) {
		free(*crt_pem);
		tls_err(err, r, "export the CA key");
		goto out;
	}
	*key_pem = datum_str(&d);
	ret = 0;
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

static int server_names(gnutls_x509_crt_t crt, srv_server *s, sk_err *err)
{
	static const char *const dns[] = {"localhost", "kubernetes", "kubernetes.default",
					  "kubernetes.default.svc",
					  "kubernetes.default.svc.cluster.local"};
	char host[256] = "", svc_ip[64];
	unsigned char ip4[4];
	int r;

	for (size_t i = 0; i < SK_ARRAY_SIZE(dns); i++)
		if ((r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns[i],
							      (unsigned)strlen(dns[i]),
							      GNUTLS_FSAN_APPEND)) < 0)
			return tls_err(err, r, "certificate names");
	if (gethostname(host, sizeof(host) - 1) == 0 && *host)
		gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
						     (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
	srv_ipalloc_nth(s->ips, 1, svc_ip, sizeof(svc_ip));
	const char *ips[] = {"127.0.0.1", s->host, svc_ip};
	for (size_t i = 0; i < SK_ARRAY_SIZE(ips); i++) {
		if (inet_pton(AF_INET, ips[i], ip4) != 1)
			continue;
		if ((r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip4, 4,
							      GNUTLS_FSAN_APPEND)) < 0)
			return tls_err(err, r, "certificate addresses");
	}
	return 0;
}

static int make_server_cert(srv_server *s, const char *ca_pem, const char *ca_key_pem, sk_err *err)
{
	gnutls_x509_privkey_t key = NULL, ca_key = NULL;
	gnutls_x509_crt_t crt = NULL, ca = NULL;
	gnutls_datum_t d = {0};
	gnutls_datum_t cad = {.data = (unsigned char *)ca_pem, .size = (unsigned)strlen(ca_pem)};
	gnutls_datum_t cakd = {.data = (unsigned char *)ca_key_pem,
			       .size = (unsigned)strlen(ca_key_pem)};
	unsigned char id[64];
	size_t idlen = sizeof(id);
	int r, ret = -1;

	if ((r = gnutls_x509_crt_init(&ca)) < 0 ||
	    (r = gnutls_x509_crt_import(ca, &cad, GNUTLS_X509_FMT_PEM)) < 0) {
		tls_err(err, r, "read tls/ca.crt");
		goto out;
	}
	if ((r = gnutls_x509_privkey_init(&ca_key)) < 0 ||
	    (r = gnutls_x509_privkey_import(ca_key, &cakd, GNUTLS_X509_FMT_PEM)) < 0) {
		tls_err(err, r, "read tls/ca.key");
		goto out;
	}
	if (new_key(&key, err) < 0)
		goto out;
	if ((r = gnutls_x509_crt_init(&crt)) < 0) {
		tls_err(err, r, "certificate");
		goto out;
	}
	if (crt_basics(crt, key, "kube-apiserver", SERVER_DAYS, err) < 0 ||
	    server_names(crt, s, err) < 0)
		goto out;
	if ((r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							    GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (r = gnutls_x509_crt_get_subject_key_id(ca, id, &idlen, NULL)) < 0 ||
	    (r = gnutls_x509_crt_set_authority_key_id(crt, id, idlen)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0) {
		tls_err(err, r, "sign the server certificate");
		goto out;
	}
	if ((r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d)) < 0) {
		tls_err(err, r, "export the server certificate");
		goto out;
	}
	s->cert_pem = datum_str(&d);
	if ((r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d)) < 0) {
		tls_err(err, r, "export the server key");
		goto out;
	}
	s->key_pem = datum_str(&d);
	ret = 0;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	return ret;
}

static int write_secret(const char *dir, const char *name, const void *data, size_t len,
			sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(dir, name);

	return sk_write_file_atomic(path, data, len, 0600, err);
}

int srv_tls_setup(srv_server *s, sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(s->data_dir, "tls");
	_cleanup_free_ char *ca_path = sk_path_join(dir, "ca.crt");
	_cleanup_free_ char *cakey_path = sk_path_join(dir, "ca.key");
	_cleanup_free_ char *ca_key = NULL;
	size_t n;

	if (sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (!sk_path_exists(ca_path) || !sk_path_exists(cakey_path)) {
		if (make_ca(&s->ca_pem, &ca_key, err) < 0 ||
		    write_secret(dir, "ca.key", ca_key, strlen(ca_key), err) < 0 ||
		    write_secret(dir, "ca.crt", s->ca_pem, strlen(s->ca_pem), err) < 0)
			return sk_err_wrap(err, "create the cluster CA");
	} else if (sk_read_file(ca_path, 0, &s->ca_pem, &n, err) < 0 ||
		   sk_read_file(cakey_path, 0, &ca_key, &n, err) < 0) {
		return -1;
	}
	if (make_server_cert(s, s->ca_pem, ca_key, err) < 0 ||
	    write_secret(dir, "server.crt", s->cert_pem, strlen(s->cert_pem), err) < 0 ||
	    write_secret(dir, "server.key", s->key_pem, strlen(s->key_pem), err) < 0)
		return sk_err_wrap(err, "create the server certificate");
	return 0;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int srv_token_setup(srv_server *s, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->data_dir, "token");
	unsigned char raw[32];
	char text[65];
	size_t n;

	if (sk_path_exists(path)) {
		if (sk_read_file(path, 4096, &s->token, &n, err) < 0)
			return -1;
		s->token[strcspn(s->token, "\r\n")] = '\0';
		if (strlen(s->token) < 16)
			return sk_err_set(err, EINVAL, "%s: token too short", path);
		return 0;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0)
		return sk_err_set(err, EIO, "no randomness for the token");
	hex(raw, sizeof(raw), text);
	s->token = sk_strdup(text);
	return write_secret(s->data_dir, "token", text, strlen(text), err);
}

/* k3s' token format: a node that has only the token can fetch the CA
 * from /cacerts without verification and check it against the hash. */
int srv_node_token_setup(srv_server *s, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->data_dir, SRV_NODE_TOKEN);
	unsigned char digest[32], secret[16];
	char dhex[65], shex[33];
	size_t n;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s->ca_pem, strlen(s->ca_pem), digest) < 0)
		return sk_err_set(err, EIO, "hash the CA");
	hex(digest, sizeof(digest), dhex);
	if (sk_path_exists(path)) {
		if (sk_read_file(path, 4096, &s->node_token, &n, err) < 0)
			return -1;
		s->node_token[strcspn(s->node_token, "\r\n")] = '\0';
		_cleanup_free_ char *want = sk_asprintf("K10%s::", dhex);
		if (!sk_startswith(s->node_token, want))
			return sk_err_set(err, EINVAL, "%s does not match this cluster's CA", path);
		return 0;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) < 0)
		return sk_err_set(err, EIO, "no randomness for the node token");
	hex(secret, sizeof(secret), shex);
	s->node_token = sk_asprintf("K10%s::node:%s", dhex, shex);
	return write_secret(s->data_dir, SRV_NODE_TOKEN, s->node_token, strlen(s->node_token), err);
}

int srv_secrets_key(srv_server *s, unsigned char key[32], sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->data_dir, "secrets.key");
	_cleanup_free_ char *data = NULL;
	size_t n;

	if (sk_path_exists(path)) {
		if (sk_read_file(path, 64, &data, &n, err) < 0)
			return -1;
		if (n != 32)
			return sk_err_set(err, EINVAL, "%s: expected 32 bytes, found %zu", path, n);
		memcpy(key, data, 32);
		return 0;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, key, 32) < 0)
		return sk_err_set(err, EIO, "no randomness for the secrets key");
	return write_secret(s->data_dir, "secrets.key", key, 32, err);
}

int srv_write_kubeconfig(srv_server *s, const char *path, sk_err *err)
{
	gnutls_datum_t in = {0}, b64 = {0};
	_cleanup_free_ char *ca = NULL, *text = NULL;

	if (!s->cfg.insecure_http) {
		in.data = (unsigned char *)s->ca_pem;
		in.size = (unsigned)strlen(s->ca_pem);
		if (gnutls_base64_encode2(&in, &b64) < 0)
			return sk_err_set(err, EIO, "encode the CA");
		ca = datum_str(&b64);
	}
	text = sk_asprintf("apiVersion: v1\n"
			   "kind: Config\n"
			   "clusters:\n"
			   "- name: skiff\n"
			   "  cluster:\n"
			   "    server: %s://%s:%d\n"
			   "    %s%s\n"
			   "contexts:\n"
			   "- name: skiff\n"
			   "  context:\n"
			   "    cluster: skiff\n"
			   "    user: admin\n"
			   "current-context: skiff\n"
			   "preferences: {}\n"
			   "users:\n"
			   "- name: admin\n"
			   "  user:\n"
			   "    token: %s\n",
			   s->cfg.insecure_http ? "http" : "https", s->host, s->port,
			   ca ? "certificate-authority-data: " : "insecure-skip-tls-verify: true",
			   ca ? ca : "", s->token);
	if (sk_write_file_atomic(path, text, strlen(text), 0600, err) < 0)
		return sk_err_wrap(err, "write the kubeconfig");
	return 0;
}
