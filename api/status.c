/* Status objects: the apiserver's error (and DELETE success) bodies, with
 * the messages of apimachinery's api/errors so kubectl prints what users
 * know ("Error from server (NotFound): pods "x" not found"). */
#include "api_internal.h"

#include <stdarg.h>

static json_t *status_base(const char *status)
{
	return json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1", "metadata",
			 "status", status);
}

json_t *api_status_new(int code, const char *reason, const char *message, json_t *details)
{
	json_t *st = status_base("Failure");

	if (message)
		json_object_set_new(st, "message", json_string(message));
	if (reason)
		json_object_set_new(st, "reason", json_string(reason));
	if (details)
		json_object_set_new(st, "details", details);
	json_object_set_new(st, "code", json_integer(code));
	return st;
}

int api_status_code(json_t *status)
{
	return (int)api_get_int(status, "code", 500);
}

/* details {name, group, kind: resource}, empty members left out as Go's
 * omitempty does. */
static json_t *resource_details(const api_kind *k, const char *name)
{
	json_t *d = json_object();

	if (name && *name)
		json_object_set_new(d, "name", json_string(name));
	if (k && k->group[0])
		json_object_set_new(d, "group", json_string(k->group));
	if (k)
		json_object_set_new(d, "kind", json_string(k->resource));
	return d;
}

static json_t *resource_status(int code, const char *reason, const api_kind *k, const char *name,
			       const char *fmt_tail)
{
	char qr[128];
	_cleanup_free_ char *msg = NULL;

	api_kind_qualified_resource(k, qr, sizeof(qr));
	msg = sk_asprintf("%s \"%s\" %s", qr, name ? name : "", fmt_tail);
	return api_status_new(code, reason, msg, resource_details(k, name));
}

json_t *api_status_not_found(const api_kind *k, const char *name)
{
	if (!k)
		return api_status_new(404, "NotFound",
				      "the server could not find the requested resource", NULL);
	return resource_status(404, "NotFound", k, name, "not found");
}

json_t *api_status_already_exists(const api_kind *k, const char *name)
{
	return resource_status(409, "AlreadyExists", k, name, "already exists");
}

json_t *api_status_conflict(const api_kind *k, const char *name, const char *why)
{
	char qr[128];
	_cleanup_free_ char *msg = NULL;

	if (!why)
		why = "the object has been modified; please apply your changes to the latest "
		      "version and try again";
	api_kind_qualified_resource(k, qr, sizeof(qr));
	msg = sk_asprintf("Operation cannot be fulfilled on %s \"%s\": %s", qr, name ? name : "",
			  why);
	return api_status_new(409, "Conflict", msg, resource_details(k, name));
}

/* "Kind.group" as schema.GroupKind.String() prints it. */
static void group_kind(const api_kind *k, char *buf, size_t n)
{
	if (k->group[0])
		snprintf(buf, n, "%s.%s", k->kind, k->group);
	else
		snprintf(buf, n, "%s", k->kind);
}

/* The aggregate of field errors as utilerrors.Aggregate prints it: one
 * message alone, several as "[a, b]", duplicates dropped. */
static char *aggregate_message(json_t *causes)
{
	_cleanup_buf_ sk_buf b = {0};
	json_t *seen = json_object(), *c;
	size_t i, n = 0;

	json_array_foreach (causes, i, c) {
		const char *field = json_string_value(json_object_get(c, "field"));
		const char *msg = json_string_value(json_object_get(c, "message"));
		_cleanup_free_ char *one =
			sk_asprintf("%s: %s", field ? field : "", msg ? msg : "");
		if (json_object_get(seen, one))
			continue;
		json_object_set_new(seen, one, json_true());
		if (n++)
			sk_buf_puts(&b, ", ");
		sk_buf_puts(&b, one);
	}
	json_decref(seen);
	if (n > 1) {
		char *s = sk_asprintf("[%s]", b.data);
		return s;
	}
	return sk_buf_steal(&b);
}

json_t *api_status_invalid(const api_kind *k, const char *name, json_t *causes)
{
	char gk[160];
	_cleanup_free_ char *agg = NULL, *msg = NULL;
	json_t *details = json_object();

	group_kind(k, gk, sizeof(gk));
	if (json_array_size(causes) == 0) {
		msg = sk_asprintf("%s \"%s\" is invalid", gk, name ? name : "");
	} else {
		agg = aggregate_message(causes);
		msg = sk_asprintf("%s \"%s\" is invalid: %s", gk, name ? name : "", agg);
	}
	if (name && *name)
		json_object_set_new(details, "name", json_string(name));
	if (k->group[0])
		json_object_set_new(details, "group", json_string(k->group));
	json_object_set_new(details, "kind", json_string(k->kind));
	json_object_set_new(details, "causes", causes ? json_deep_copy(causes) : json_array());
	return api_status_new(422, "Invalid", msg, details);
}

json_t *api_status_bad_request(const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *msg = NULL;

	va_start(ap, fmt);
	msg = sk_vasprintf(fmt, ap);
	va_end(ap);
	return api_status_new(400, "BadRequest", msg, NULL);
}

json_t *api_status_expired(int64_t requested, int64_t oldest)
{
	_cleanup_free_ char *msg = sk_asprintf("too old resource version: %lld (%lld)",
					       (long long)requested, (long long)oldest);

	return api_status_new(410, "Expired", msg, NULL);
}

json_t *api_status_gone(const char *message)
{
	return api_status_new(410, "Gone", message, NULL);
}

json_t *api_status_unauthorized(void)
{
	return api_status_new(401, "Unauthorized", "Unauthorized", NULL);
}

json_t *api_status_forbidden(const api_kind *k, const char *name, const char *why)
{
	char qr[128];
	_cleanup_free_ char *msg = NULL;

	if (!k)
		msg = sk_asprintf("forbidden: %s", why);
	else if (!name || !*name)
		msg = sk_asprintf("%s is forbidden: %s",
				  api_kind_qualified_resource(k, qr, sizeof(qr)), why);
	else
		msg = sk_asprintf("%s \"%s\" is forbidden: %s",
				  api_kind_qualified_resource(k, qr, sizeof(qr)), name, why);
	return api_status_new(403, "Forbidden", msg, k ? resource_details(k, name) : NULL);
}

json_t *api_status_method_not_allowed(const api_kind *k, const char *method)
{
	char qr[128] = "";
	_cleanup_free_ char *msg = NULL;

	if (k)
		api_kind_qualified_resource(k, qr, sizeof(qr));
	msg = sk_asprintf("%s is not supported on resources of kind \"%s\"", method, qr);
	return api_status_new(405, "MethodNotAllowed", msg, k ? resource_details(k, NULL) : NULL);
}

json_t *api_status_unsupported_media_type(const char *accepted)
{
	_cleanup_free_ char *msg = NULL;

	if (!accepted)
		accepted = "application/json-patch+json, application/merge-patch+json, "
			   "application/strategic-merge-patch+json, application/apply-patch+yaml";
	msg = sk_asprintf("the body of the request was in an unknown format - accepted media "
			  "types include: %s",
			  accepted);
	return api_status_new(415, "UnsupportedMediaType", msg, NULL);
}

json_t *api_status_too_large(size_t limit)
{
	_cleanup_free_ char *msg = sk_asprintf("Request entity too large: limit is %zu", limit);

	return api_status_new(413, "RequestEntityTooLarge", msg, NULL);
}

json_t *api_status_internal(const char *why)
{
	_cleanup_free_ char *msg = sk_asprintf("Internal error occurred: %s", why);

	return api_status_new(500, "InternalError", msg,
			      json_pack("{s:[{s:s}]}", "causes", "message", why));
}

json_t *api_status_success(const api_kind *k, const char *name, const char *uid)
{
	json_t *st = status_base("Success");
	json_t *d = json_object();

	json_object_set_new(d, "name", json_string(name ? name : ""));
	json_object_set_new(d, "group", json_string(k->group));
	json_object_set_new(d, "kind", json_string(k->resource));
	if (uid)
		json_object_set_new(d, "uid", json_string(uid));
	json_object_set_new(st, "details", d);
	return st;
}
