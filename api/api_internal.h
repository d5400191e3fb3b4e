/* api: declarations shared between the files of api/ and nowhere else. */
#ifndef SKIFF_API_INTERNAL_H
#define SKIFF_API_INTERNAL_H

#include "api.h"

/* ---- field error lists (validation) -------------------------------------
 * The causes array api_validate returns is built with these. `path` is a
 * printf-built field path ("spec.containers[0].image"); the message body
 * follows field.Error.ErrorBody() of apimachinery. */
typedef struct verr {
	json_t *causes; /* array of {reason, message, field} */
} verr;

void verr_required(verr *v, const char *field, const char *detail);
void verr_forbidden(verr *v, const char *field, const char *detail);
void verr_invalid_str(verr *v, const char *field, const char *value, const char *detail);
void verr_invalid_int(verr *v, const char *field, int64_t value, const char *detail);
/* Invalid with the JSON value rendered as Go would print it. */
void verr_invalid_json(verr *v, const char *field, json_t *value, const char *detail);
/* supported is a NULL-terminated list. */
void verr_not_supported(verr *v, const char *field, const char *value,
			const char *const *supported);
void verr_duplicate_str(verr *v, const char *field, const char *value);
void verr_duplicate_int(verr *v, const char *field, int64_t value);
void verr_not_found_str(verr *v, const char *field, const char *value);
void verr_too_long(verr *v, const char *field, size_t max);
void verr_too_many(verr *v, const char *field, int64_t actual, int64_t max);
void verr_type_invalid(verr *v, const char *field, json_t *value, const char *detail);

/* A field path builder: fixed buffers, truncation is harmless (paths are
 * only for messages). */
#define API_PATH_MAX 512
typedef struct fpath {
	char s[API_PATH_MAX];
} fpath;
/* p = base + "." + key, or base + "[i]", or base + "[key]". */
fpath fp_child(const char *base, const char *key);
fpath fp_index(const char *base, size_t i);
fpath fp_key(const char *base, const char *key);

/* ---- per-kind validation entry points (validate_*.c) ------------------- */
void validate_object_meta(verr *v, const api_kind *k, json_t *meta, const char *path);
void validate_object_meta_update(verr *v, json_t *meta, json_t *old_meta, const char *path);
void validate_labels(verr *v, json_t *labels, const char *path);
void validate_annotations(verr *v, json_t *annotations, const char *path);
void validate_label_selector(verr *v, json_t *sel, const char *path);
void validate_pod_spec(verr *v, json_t *spec, json_t *meta, const char *path);
void validate_pod_template(verr *v, json_t *tmpl, const char *path);
void validate_pod(verr *v, json_t *pod, json_t *old);
void validate_pod_status(verr *v, json_t *pod, json_t *old);
void validate_workload(verr *v, const api_kind *k, json_t *obj, json_t *old);
void validate_service(verr *v, json_t *svc, json_t *old);
void validate_other(verr *v, const api_kind *k, json_t *obj, json_t *old);
void validate_quantity(verr *v, json_t *q, const char *path);
/* A JSON value that must be a string/int/bool/object/array when present;
 * appends a type error and returns false otherwise. */
bool want_string(verr *v, json_t *j, const char *path);
bool want_int(verr *v, json_t *j, const char *path);
bool want_bool(verr *v, json_t *j, const char *path);
bool want_object(verr *v, json_t *j, const char *path);
bool want_array(verr *v, json_t *j, const char *path);

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

/* ---- misc ---------------------------------------------------------------- */
bool api_json_is_int(json_t *j);
/* Render a JSON value as Go's %v/%q would for an error message. */
char *api_json_go_string(json_t *j);
int64_t api_now_sec(void);

#endif
