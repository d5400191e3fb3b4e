/* api: declarations shared between the files of api/ and nowhere else. */
#ifndef SKIFF_API_INTERNAL_H
#define SKIFF_API_INTERNAL_H

#include "api.h"

/* ---- field error lists (validation) -------------------------------------
 * The causes array api_validate returns is built with these. `field` is a
 * path as Kubernetes prints it ("spec.containers[0].image"); the message
 * body follows apimachinery's field.Error.ErrorBody(). */
typedef struct verr {
	json_t *causes; /* array of {reason, message, field} */
} verr;

void verr_required(verr *v, const char *field, const char *detail);
void verr_forbidden(verr *v, const char *field, const char *detail);
void verr_invalid_str(verr *v, const char *field, const char *value, const char *detail);
void verr_invalid_int(verr *v, const char *field, int64_t value, const char *detail);
/* Invalid with the bad value already rendered (Go's %v of a Stringer). */
void verr_invalid_raw(verr *v, const char *field, const char *rendered, const char *detail);
/* Invalid with a JSON value rendered as Go prints the decoded value. */
void verr_invalid_json(verr *v, const char *field, json_t *value, const char *detail);
/* supported: NULL-terminated. */
void verr_not_supported(verr *v, const char *field, const char *value,
			const char *const *supported);
void verr_not_supported_raw(verr *v, const char *field, const char *rendered,
			    const char *const *supported);
void verr_duplicate_str(verr *v, const char *field, const char *value);
void verr_duplicate_int(verr *v, const char *field, int64_t value);
void verr_duplicate_raw(verr *v, const char *field, const char *rendered);
void verr_not_found_str(verr *v, const char *field, const char *value);
void verr_too_long(verr *v, const char *field, size_t max);
void verr_too_many(verr *v, const char *field, int64_t actual, int64_t max);
void verr_type(verr *v, const char *field, json_t *value, const char *want);

/* Field paths: fp("%s.containers[%zu]", base, i).s, valid for the full
 * expression; truncation only shortens a message. */
#define API_PATH_MAX 512
typedef struct fpath {
	char s[API_PATH_MAX];
} fpath;
fpath fp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Typed access during validation: the member key of obj when it has the
 * wanted JSON type; NULL when absent or null; NULL plus a type error at
 * path.key when it has another type. */
json_t *vget_str(verr *v, json_t *obj, const char *key, const char *path);
json_t *vget_int(verr *v, json_t *obj, const char *key, const char *path);
json_t *vget_bool(verr *v, json_t *obj, const char *key, const char *path);
json_t *vget_obj(verr *v, json_t *obj, const char *key, const char *path);
json_t *vget_arr(verr *v, json_t *obj, const char *key, const char *path);
/* A string or an integer (IntOrString). */
json_t *vget_intstr(verr *v, json_t *obj, const char *key, const char *path);
/* The string value, "" when absent. */
const char *vstr(verr *v, json_t *obj, const char *key, const char *path);

/* ---- shared validators (validate.c) ------------------------------------- */
void validate_object_meta(verr *v, const api_kind *k, json_t *obj);
void validate_object_meta_update(verr *v, json_t *obj, json_t *old);
/* metav1 labels map at path (keys qualified names, values label values). */
void validate_labels(verr *v, json_t *labels, const char *path);
void validate_label_selector(verr *v, json_t *sel, const char *path);
void validate_dns1123_label(verr *v, const char *s, const char *path);
void validate_dns1123_subdomain(verr *v, const char *s, const char *path);
void validate_qualified_name(verr *v, const char *s, const char *path);
void validate_nonnegative(verr *v, json_t *n, const char *path);
/* A resource quantity (string or number) at path: parsable and >= 0. */
bool validate_quantity(verr *v, json_t *q, const char *path, int64_t *milli);
/* IsValidPortNum / IsValidPortName messages (NULL when valid). */
const char *port_num_msg(int64_t port);
int port_name_msgs(const char *name, const char **msgs);
/* A value out of a NULL-terminated list, with the NotSupported error. */
bool one_of(const char *s, const char *const *values);
/* Immutable field: JSON equality, else "field is immutable". */
void validate_immutable(verr *v, json_t *now, json_t *before, const char *path);

/* ---- per-kind validation ---------------------------------------------- */
void validate_pod_spec(verr *v, json_t *spec, const char *path);
void validate_pod_template(verr *v, json_t *tmpl, const char *path);
void validate_pod(verr *v, json_t *pod, json_t *old);
void validate_pod_status(verr *v, json_t *pod, json_t *old);
void validate_service(verr *v, json_t *svc, json_t *old);
void validate_deployment(verr *v, json_t *d, json_t *old);
void validate_replicaset(verr *v, json_t *rs, json_t *old);
void validate_configmap(verr *v, json_t *cm, json_t *old);
void validate_secret(verr *v, json_t *s, json_t *old);
void validate_namespace(verr *v, json_t *ns, json_t *old);
void validate_node(verr *v, json_t *node, json_t *old);
void validate_endpoints(verr *v, json_t *ep, json_t *old);
void validate_event(verr *v, json_t *ev, json_t *old);
void validate_pv(verr *v, json_t *pv, json_t *old);
void validate_pvc(verr *v, json_t *pvc, json_t *old);
void validate_lease(verr *v, json_t *lease, json_t *old);
void validate_volume_source_count(verr *v, json_t *src, const char *path,
				  const char *const *sources);

/* ---- name syntax (names.c) ---------------------------------------------
 * Each fills msgs (static strings) and returns how many; 0 = valid. */
#define NAME_MAX_MSGS 4
enum name_rule {
	NAME_DNS1123_LABEL,
	NAME_DNS1123_SUBDOMAIN,
	NAME_DNS1035_LABEL,
	NAME_PATH_SEGMENT
};
int names_dns1123_label(const char *s, const char **msgs);
int names_dns1123_subdomain(const char *s, const char **msgs);
int names_dns1035_label(const char *s, const char **msgs);
int names_qualified_name(const char *s, const char **msgs);
int names_label_value(const char *s, const char **msgs);
int names_path_segment(const char *s, const char **msgs);
/* A metadata name (prefix: a generateName) under rule. */
int names_check(enum name_rule rule, const char *s, bool prefix, const char **msgs);

/* The VolumeSource member names (defaults.c), NULL-terminated. */
const char *const *api_internal_volume_sources(void);

/* ---- misc ---------------------------------------------------------------- */
bool api_json_is_int(json_t *j);
/* Go's %q of a string (new string). */
char *api_go_quote(const char *s);
/* Render a JSON value as Go prints the decoded value in an error message:
 * strings quoted, map[string]string{...}, []string{...} (new string). */
char *api_json_go_string(json_t *j);
int64_t api_now_sec(void);
/* An IPv4 or IPv6 address in its text form. */
bool api_is_ip(const char *s);

#endif
