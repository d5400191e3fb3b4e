/* Kubernetes protobuf bodies to JSON.
 *
 * kubectl 1.32 and later post the objects its generator commands build
 * (`create namespace`, `create configmap`, `create secret`, `create
 * deployment`, `create service`) as protobuf, with no JSON fallback
 * (COMPAT.md §7). The wire format is the "k8s\0" magic and a
 * runtime.Unknown {typeMeta, raw}; raw is the object's message. This
 * decoder is driven by tables of the fields of those kinds (numbers from
 * k8s.io/api's generated.proto); fields it does not know are skipped.
 * Empty strings, false and zero are left out, as the JSON encoder's
 * omitempty would, except for fields marked KEEP (pointers in Go). */
#include "srv_internal.h"

#include <errno.h>
#include <gnutls/gnutls.h>

#define PB_MAX_DEPTH 32

enum pb_type {
	PB_STRING,
	PB_BYTES, /* base64 in JSON */
	PB_INT,
	PB_BOOL,
	PB_MSG,
	PB_MAP_SS, /* map<string,string> */
	PB_MAP_SB, /* map<string,bytes> */
	PB_MAP_SQ, /* map<string,Quantity> */
	PB_TIME,
	PB_INTORSTR,
};

#define REP 1u	/* repeated */
#define KEEP 2u /* keep zero values */

struct pb_msg;
struct pb_field {
	int num;
	const char *name;
	enum pb_type type;
	unsigned flags;
	const struct pb_msg *msg;
};
struct pb_msg {
	const struct pb_field *fields;
	size_t n;
};
#define MSG(name, ...)                                                \
	static const struct pb_field name##_fields[] = {__VA_ARGS__}; \
	static const struct pb_msg name = {name##_fields, SK_ARRAY_SIZE(name##_fields)}
static const struct pb_msg pb_empty = {NULL, 0};

MSG(owner_ref, {1, "kind", PB_STRING, 0, NULL}, {3, "name", PB_STRING, 0, NULL},
    {4, "uid", PB_STRING, 0, NULL}, {5, "apiVersion", PB_STRING, 0, NULL},
    {6, "controller", PB_BOOL, KEEP, NULL}, {7, "blockOwnerDeletion", PB_BOOL, KEEP, NULL});
MSG(object_meta, {1, "name", PB_STRING, 0, NULL}, {2, "generateName", PB_STRING, 0, NULL},
    {3, "namespace", PB_STRING, 0, NULL}, {5, "uid", PB_STRING, 0, NULL},
    {6, "resourceVersion", PB_STRING, 0, NULL}, {7, "generation", PB_INT, 0, NULL},
    {8, "creationTimestamp", PB_TIME, 0, NULL}, {9, "deletionTimestamp", PB_TIME, 0, NULL},
    {10, "deletionGracePeriodSeconds", PB_INT, KEEP, NULL}, {11, "labels", PB_MAP_SS, 0, NULL},
    {12, "annotations", PB_MAP_SS, 0, NULL}, {13, "ownerReferences", PB_MSG, REP, &owner_ref},
    {14, "finalizers", PB_STRING, REP, NULL});

MSG(namespace_spec, {1, "finalizers", PB_STRING, REP, NULL});
MSG(namespace_status, {1, "phase", PB_STRING, 0, NULL});
MSG(namespace, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &namespace_spec},
    {3, "status", PB_MSG, 0, &namespace_status});

MSG(configmap, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "data", PB_MAP_SS, 0, NULL},
    {3, "binaryData", PB_MAP_SB, 0, NULL}, {4, "immutable", PB_BOOL, KEEP, NULL});
MSG(secret, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "data", PB_MAP_SB, 0, NULL},
    {3, "type", PB_STRING, 0, NULL}, {4, "stringData", PB_MAP_SS, 0, NULL},
    {5, "immutable", PB_BOOL, KEEP, NULL});

MSG(service_port, {1, "name", PB_STRING, 0, NULL}, {2, "protocol", PB_STRING, 0, NULL},
    {3, "port", PB_INT, KEEP, NULL}, {4, "targetPort", PB_INTORSTR, 0, NULL},
    {5, "nodePort", PB_INT, 0, NULL}, {6, "appProtocol", PB_STRING, 0, NULL});
MSG(service_spec, {1, "ports", PB_MSG, REP, &service_port}, {2, "selector", PB_MAP_SS, 0, NULL},
    {3, "clusterIP", PB_STRING, 0, NULL}, {4, "type", PB_STRING, 0, NULL},
    {5, "externalIPs", PB_STRING, REP, NULL}, {7, "sessionAffinity", PB_STRING, 0, NULL},
    {11, "externalName", PB_STRING, 0, NULL}, {20, "clusterIPs", PB_STRING, REP, NULL});
MSG(service, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &service_spec},
    {3, "status", PB_MSG, 0, &pb_empty});

MSG(selector_req, {1, "key", PB_STRING, 0, NULL}, {2, "operator", PB_STRING, 0, NULL},
    {3, "values", PB_STRING, REP, NULL});
MSG(label_selector, {1, "matchLabels", PB_MAP_SS, 0, NULL},
    {2, "matchExpressions", PB_MSG, REP, &selector_req});
MSG(container_port, {1, "name", PB_STRING, 0, NULL}, {2, "hostPort", PB_INT, 0, NULL},
    {3, "containerPort", PB_INT, KEEP, NULL}, {4, "protocol", PB_STRING, 0, NULL},
    {5, "hostIP", PB_STRING, 0, NULL});
MSG(env_var, {1, "name", PB_STRING, 0, NULL}, {2, "value", PB_STRING, 0, NULL});
MSG(resources, {1, "limits", PB_MAP_SQ, 0, NULL}, {2, "requests", PB_MAP_SQ, 0, NULL});
MSG(volume_mount, {1, "name", PB_STRING, 0, NULL}, {2, "readOnly", PB_BOOL, 0, NULL},
    {3, "mountPath", PB_STRING, 0, NULL}, {4, "subPath", PB_STRING, 0, NULL});
MSG(container, {1, "name", PB_STRING, 0, NULL}, {2, "image", PB_STRING, 0, NULL},
    {3, "command", PB_STRING, REP, NULL}, {4, "args", PB_STRING, REP, NULL},
    {5, "workingDir", PB_STRING, 0, NULL}, {6, "ports", PB_MSG, REP, &container_port},
    {7, "env", PB_MSG, REP, &env_var}, {8, "resources", PB_MSG, 0, &resources},
    {9, "volumeMounts", PB_MSG, REP, &volume_mount},
    {13, "terminationMessagePath", PB_STRING, 0, NULL}, {14, "imagePullPolicy", PB_STRING, 0, NULL},
    {16, "stdin", PB_BOOL, 0, NULL}, {17, "stdinOnce", PB_BOOL, 0, NULL},
    {18, "tty", PB_BOOL, 0, NULL}, {20, "terminationMessagePolicy", PB_STRING, 0, NULL});
MSG(pod_spec, {2, "containers", PB_MSG, REP, &container}, {3, "restartPolicy", PB_STRING, 0, NULL},
    {4, "terminationGracePeriodSeconds", PB_INT, KEEP, NULL}, {6, "dnsPolicy", PB_STRING, 0, NULL},
    {7, "nodeSelector", PB_MAP_SS, 0, NULL}, {8, "serviceAccountName", PB_STRING, 0, NULL},
    {10, "nodeName", PB_STRING, 0, NULL}, {11, "hostNetwork", PB_BOOL, 0, NULL},
    {14, "securityContext", PB_MSG, 0, &pb_empty}, {19, "schedulerName", PB_STRING, 0, NULL},
    {20, "initContainers", PB_MSG, REP, &container}, {25, "priority", PB_INT, KEEP, NULL},
    {30, "enableServiceLinks", PB_BOOL, KEEP, NULL});
MSG(pod_template, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &pod_spec});
MSG(rolling_update, {1, "maxUnavailable", PB_INTORSTR, 0, NULL},
    {2, "maxSurge", PB_INTORSTR, 0, NULL});
MSG(strategy, {1, "type", PB_STRING, 0, NULL}, {2, "rollingUpdate", PB_MSG, 0, &rolling_update});
MSG(deployment_spec, {1, "replicas", PB_INT, KEEP, NULL},
    {2, "selector", PB_MSG, 0, &label_selector}, {3, "template", PB_MSG, 0, &pod_template},
    {4, "strategy", PB_MSG, 0, &strategy}, {5, "minReadySeconds", PB_INT, 0, NULL},
    {6, "revisionHistoryLimit", PB_INT, KEEP, NULL}, {7, "paused", PB_BOOL, 0, NULL},
    {9, "progressDeadlineSeconds", PB_INT, KEEP, NULL});
MSG(deployment, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &deployment_spec},
    {3, "status", PB_MSG, 0, &pb_empty});

static const struct {
	const char *api_version, *kind;
	const struct pb_msg *msg;
} pb_kinds[] = {
	{"v1", "Namespace", &namespace},
	{"v1", "ConfigMap", &configmap},
	{"v1", "Secret", &secret},
	{"v1", "Service", &service},
	{"apps/v1", "Deployment", &deployment},
};

/* ---- the wire format ----------------------------------------------------------- */

struct pb_reader {
	const unsigned char *p, *end;
};

static int read_varint(struct pb_reader *r, uint64_t *v)
{
	uint64_t out = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		unsigned char b = *r->p++;
		out |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = out;
			return 0;
		}
	}
	return -1;
}

static int read_bytes(struct pb_reader *r, const unsigned char **data, size_t *len)
{
	uint64_t n;

	if (read_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
		return -1;
	*data = r->p;
	*len = (size_t)n;
	r->p += n;
	return 0;
}

static int skip_field(struct pb_reader *r, unsigned wt)
{
	const unsigned char *d;
	uint64_t v;
	size_t n;

	switch (wt) {
	case 0:
		return read_varint(r, &v);
	case 1:
		if (r->end - r->p < 8)
			return -1;
		r->p += 8;
		return 0;
	case 2:
		return read_bytes(r, &d, &n);
	case 5:
		if (r->end - r->p < 4)
			return -1;
		r->p += 4;
		return 0;
	default:
		return -1;
	}
}

static json_t *pb_string(const unsigned char *d, size_t n)
{
	return json_stringn((const char *)d, n); /* NULL when not UTF-8 */
}

static json_t *pb_base64(const unsigned char *d, size_t n)
{
	gnutls_datum_t in = {.data = (unsigned char *)d, .size = (unsigned)n}, out = {0};
	json_t *s;

	if (n == 0)
		return json_string("");
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	s = json_stringn((const char *)out.data, out.size);
	srv_gnutls_free(out.data);
	return s;
}

static int decode_msg(const unsigned char *d, size_t n, const struct pb_msg *m, json_t *out,
		      int depth, sk_err *err);

/* A map entry {1: key, 2: value} into map. */
static int decode_entry(const unsigned char *d, size_t n, enum pb_type t, json_t *map, sk_err *err)
{
	struct pb_reader r = {d, d ? d + n : d};
	json_t *key = NULL, *val = NULL;
	int ret = -1;

	while (r.p < r.end) {
		uint64_t tag;
		const unsigned char *b;
		size_t bl;
		if (read_varint(&r, &tag) < 0)
			goto out;
		if ((tag & 7) != 2) {
			if (skip_field(&r, tag & 7) < 0)
				goto out;
			continue;
		}
		if (read_bytes(&r, &b, &bl) < 0)
			goto out;
		if ((tag >> 3) == 1) {
			json_decref(key);
			key = pb_string(b, bl);
		} else if ((tag >> 3) == 2) {
			json_decref(val);
			if (t == PB_MAP_SS) {
				val = pb_string(b, bl);
			} else if (t == PB_MAP_SB) {
				val = pb_base64(b, bl);
			} else { /* Quantity {1: string} */
				json_t *q = json_object();
				static const struct pb_field qf[] = {{1, "s", PB_STRING, 0, NULL}};
				static const struct pb_msg qm = {qf, 1};
				if (decode_msg(b, bl, &qm, q, 1, err) < 0) {
					json_decref(q);
					goto out;
				}
				val = json_incref(json_object_get(q, "s"));
				json_decref(q);
				if (!val)
					val = json_string("0");
			}
		}
	}
	if (!key)
		goto out;
	json_object_set_new(map, json_string_value(key), val ? val : json_string(""));
	val = NULL;
	ret = 0;
out:
	json_decref(key);
	json_decref(val);
	if (ret < 0 && !err->msg[0])
		sk_err_set(err, EINVAL, "malformed map entry");
	return ret;
}

static json_t *decode_time(const unsigned char *d, size_t n)
{
	struct pb_reader r = {d, d ? d + n : d};
	int64_t secs = 0;
	char buf[40];

	while (r.p < r.end) {
		uint64_t tag, v;
		if (read_varint(&r, &tag) < 0)
			return NULL;
		if ((tag & 7) == 0) {
			if (read_varint(&r, &v) < 0)
				return NULL;
			if ((tag >> 3) == 1)
				secs = (int64_t)v;
		} else if (skip_field(&r, tag & 7) < 0) {
			return NULL;
		}
	}
	if (!secs)
		return json_null();
	sk_rfc3339(secs, buf, sizeof(buf));
	return json_string(buf);
}

/* IntOrString {1: type, 2: intVal, 3: strVal} */
static json_t *decode_intorstr(const unsigned char *d, size_t n)
{
	struct pb_reader r = {d, d ? d + n : d};
	int64_t type = 0, iv = 0;
	json_t *sv = NULL;

	while (r.p < r.end) {
		uint64_t tag, v;
		const unsigned char *b;
		size_t bl;
		if (read_varint(&r, &tag) < 0)
			goto bad;
		if ((tag & 7) == 0) {
			if (read_varint(&r, &v) < 0)
				goto bad;
			if ((tag >> 3) == 1)
				type = (int64_t)v;
			else if ((tag >> 3) == 2)
				iv = (int32_t)(uint32_t)v;
		} else if ((tag & 7) == 2 && (tag >> 3) == 3) {
			if (read_bytes(&r, &b, &bl) < 0)
				goto bad;
			json_decref(sv);
			sv = pb_string(b, bl);
		} else if (skip_field(&r, tag & 7) < 0) {
			goto bad;
		}
	}
	if (type == 1)
		return sv ? sv : json_string("");
	json_decref(sv);
	return json_integer(iv);
bad:
	json_decref(sv);
	return NULL;
}

static const struct pb_field *find_field(const struct pb_msg *m, int num)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->fields[i].num == num)
			return &m->fields[i];
	return NULL;
}

static void put_value(json_t *out, const struct pb_field *f, json_t *v)
{
	if (f->flags & REP) {
		json_t *arr = json_object_get(out, f->name);
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(out, f->name, arr);
		}
		json_array_append_new(arr, v);
		return;
	}
	json_object_set_new(out, f->name, v);
}

static int decode_field(struct pb_reader *r, const struct pb_field *f, unsigned wt, json_t *out,
			int depth, sk_err *err)
{
	const unsigned char *b;
	size_t bl;
	uint64_t v;
	json_t *val = NULL;

	if (f->type == PB_INT || f->type == PB_BOOL) {
		if (wt != 0 || read_varint(r, &v) < 0)
			return sk_err_set(err, EINVAL, "field %s: bad varint", f->name);
		if (!v && !(f->flags & KEEP))
			return 0;
		put_value(out, f, f->type == PB_BOOL ? json_boolean(v) : json_integer((int64_t)v));
		return 0;
	}
	if (wt != 2 || read_bytes(r, &b, &bl) < 0)
		return sk_err_set(err, EINVAL, "field %s: bad length", f->name);
	switch (f->type) {
	case PB_STRING:
		if (!bl && !(f->flags & REP))
			return 0;
		val = pb_string(b, bl);
		break;
	case PB_BYTES:
		val = pb_base64(b, bl);
		break;
	case PB_MSG:
		val = json_object();
		if (decode_msg(b, bl, f->msg, val, depth + 1, err) < 0) {
			json_decref(val);
			return sk_err_wrap(err, "%s", f->name);
		}
		break;
	case PB_MAP_SS:
	case PB_MAP_SB:
	case PB_MAP_SQ: {
		json_t *map = json_object_get(out, f->name);
		if (!json_is_object(map)) {
			map = json_object();
			json_object_set_new(out, f->name, map);
		}
		return decode_entry(b, bl, f->type, map, err) < 0 ? sk_err_wrap(err, "%s", f->name)
								  : 0;
	}
	case PB_TIME:
		val = decode_time(b, bl);
		if (json_is_null(val)) {
			json_decref(val);
			return 0;
		}
		break;
	case PB_INTORSTR:
		val = decode_intorstr(b, bl);
		break;
	default:
		break;
	}
	if (!val)
		return sk_err_set(err, EINVAL, "field %s: invalid value", f->name);
	put_value(out, f, val);
	return 0;
}

static int decode_msg(const unsigned char *d, size_t n, const struct pb_msg *m, json_t *out,
		      int depth, sk_err *err)
{
	if (n == 0)
		return 0; /* an empty message (d may be NULL) */
	struct pb_reader r = {d, d ? d + n : d};

	if (depth > PB_MAX_DEPTH)
		return sk_err_set(err, EINVAL, "nested too deeply");
	while (r.p < r.end) {
		uint64_t tag;
		if (read_varint(&r, &tag) < 0)
			return sk_err_set(err, EINVAL, "truncated field tag");
		const struct pb_field *f = find_field(m, (int)(tag >> 3));
		if (!f) {
			if (skip_field(&r, tag & 7) < 0)
				return sk_err_set(err, EINVAL, "truncated field %llu",
						  (unsigned long long)(tag >> 3));
			continue;
		}
		if (decode_field(&r, f, tag & 7, out, depth, err) < 0)
			return -1;
	}
	return 0;
}

int srv_protobuf_decode(const unsigned char *data, size_t len, json_t **obj, sk_err *err)
{
	static const struct pb_field tm_f[] = {{1, "apiVersion", PB_STRING, 0, NULL},
					       {2, "kind", PB_STRING, 0, NULL}};
	static const struct pb_msg tm = {tm_f, 2};
	static const struct pb_field unk_f[] = {{1, "typeMeta", PB_MSG, 0, &tm},
						{2, "raw", PB_BYTES, 0, NULL},
						{3, "contentEncoding", PB_STRING, 0, NULL}};
	static const struct pb_msg unk = {unk_f, 3};
	json_t *env = json_object();
	int ret = -1;

	*obj = NULL;
	if (len < 4 || memcmp(data, "k8s\0", 4) != 0) {
		sk_err_set(err, EINVAL, "missing the k8s protobuf envelope");
		goto out;
	}
	if (decode_msg(data + 4, len - 4, &unk, env, 0, err) < 0)
		goto out;
	const char *av = api_get_str(env, "typeMeta.apiVersion"),
		   *kind = api_get_str(env, "typeMeta.kind");
	const char *raw64 = api_get_str(env, "raw");
	if (api_get_str(env, "contentEncoding")) {
		sk_err_set(err, ENOTSUP, "content encoding %s",
			   api_get_str(env, "contentEncoding"));
		goto out;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(pb_kinds) && av && kind; i++) {
		if (strcmp(pb_kinds[i].api_version, av) || strcmp(pb_kinds[i].kind, kind))
			continue;
		gnutls_datum_t in = {.data = (unsigned char *)(raw64 ? raw64 : ""),
				     .size = raw64 ? (unsigned)strlen(raw64) : 0},
			       raw = {0};
		if (in.size && gnutls_base64_decode2(&in, &raw) < 0) {
			sk_err_set(err, EINVAL, "bad raw bytes");
			goto out;
		}
		json_t *o = json_pack("{s:s,s:s}", "apiVersion", av, "kind", kind);
		if (decode_msg(raw.data, raw.size, pb_kinds[i].msg, o, 0, err) < 0) {
			srv_gnutls_free(raw.data);
			json_decref(o);
			goto out;
		}
		srv_gnutls_free(raw.data);
		*obj = o;
		ret = 0;
		goto out;
	}
	sk_err_set(err, ENOTSUP, "no protobuf decoding for %s %s", av ? av : "?",
		   kind ? kind : "?");
out:
	json_decref(env);
	return ret;
}
