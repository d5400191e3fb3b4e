/* Subresources with their own shapes: pods/binding (what the scheduler
 * posts) and the autoscaling/v1 Scale of Deployments and ReplicaSets. The
 * plain ones (status, finalize) are updates with a subresource flag in
 * registry.c. */
#include "srv_internal.h"

#include <errno.h>

static const api_kind *pod_kind(void)
{
	return api_kind_by_resource("", "pods");
}

struct bind_ctx {
	const char *name;
	const char *node;
	const char *uid;     /* the Binding's metadata.uid: a precondition */
	json_t *annotations; /* the Binding's, copied onto the pod */
};

static int bind_mutate(json_t **obj, void *ctx, json_t **status)
{
	struct bind_ctx *c = ctx;
	const char *cur = api_get_str(*obj, "spec.nodeName");
	char why[512], now[32];

	const char *uid = api_meta_uid(*obj);
	if (c->uid && *c->uid && !sk_streq(c->uid, uid)) {
		snprintf(why, sizeof(why),
			 "Precondition failed: UID in precondition: %s, UID in object meta: %s",
			 c->uid, uid ? uid : "");
		*status = api_status_conflict(pod_kind(), c->name, why);
		return -1;
	}
	if (cur && *cur) {
		snprintf(why, sizeof(why), "pod %s is already assigned to node \"%s\"", c->name,
			 cur);
		*status = api_status_conflict(pod_kind(), c->name, why);
		return -1;
	}
	if (api_meta_deletion_timestamp(*obj)) {
		snprintf(why, sizeof(why), "pod %s is being deleted, cannot be assigned to a host",
			 c->name);
		*status = api_status_conflict(pod_kind(), c->name, why);
		return -1;
	}
	if (json_array_size(api_get(*obj, "spec.schedulingGates"))) {
		snprintf(why, sizeof(why), "pod %s has non-empty .spec.schedulingGates", c->name);
		*status = api_status_conflict(pod_kind(), c->name, why);
		return -1;
	}
	api_set_str(*obj, "spec.nodeName", c->node);
	const char *key;
	json_t *v;
	json_object_foreach (c->annotations, key, v)
		if (json_is_string(v))
			api_meta_set_annotation(*obj, key, json_string_value(v));
	sk_rfc3339(sk_now_ns() / 1000000000LL, now, sizeof(now));
	json_t *conds = api_get(*obj, "status.conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		api_set(*obj, "status.conditions", conds);
	}
	json_t *cond = NULL, *cd;
	size_t i;
	json_array_foreach (conds, i, cd)
		if (sk_streq(api_get_str(cd, "type"), "PodScheduled"))
			cond = cd;
	if (!cond) {
		cond = json_object();
		json_array_append_new(conds, cond);
	}
	json_object_set_new(cond, "type", json_string("PodScheduled"));
	json_object_set_new(cond, "status", json_string("True"));
	json_object_set_new(cond, "lastProbeTime", json_null());
	json_object_set_new(cond, "lastTransitionTime", json_string(now));
	json_object_del(cond, "reason");
	json_object_del(cond, "message");
	return 0;
}

int srv_bind(srv_server *s, const char *ns, const char *name, json_t *binding,
	     const srv_write_opts *o, srv_result *res)
{
	json_t *causes = api_validate_binding(binding);
	const char *bname = api_meta_name(binding);
	srv_write_opts wo = {.dry_run = o && o->dry_run, .subresource = "binding"};
	srv_result r = {0};

	if (causes && json_array_size(causes)) {
		srv_fail(res, api_status_invalid(api_kind_by_kind("", "Binding"), bname, causes));
		json_decref(causes);
		return -1;
	}
	json_decref(causes);
	if (bname && *bname && strcmp(bname, name) != 0)
		return srv_fail(res,
				api_status_bad_request(
					"the name of the object (%s) does not match the name on "
					"the URL (%s)",
					bname, name));
	const char *kind = api_get_str(binding, "target.kind");
	if (kind && *kind && strcmp(kind, "Node") != 0)
		return srv_fail(
			res, api_status_bad_request("binding target must be a Node, not %s", kind));
	struct bind_ctx c = {.name = name,
			     .node = api_get_str(binding, "target.name"),
			     .uid = api_meta_uid(binding),
			     .annotations = api_meta_annotations(binding)};
	if (srv_update_with(s, pod_kind(), ns, name, bind_mutate, &c, &wo, &r) < 0) {
		*res = r;
		return -1;
	}
	srv_result_clear(&r);
	json_t *ok = json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1",
			       "metadata", "status", "Success", "code", 201);
	res->body = ok;
	res->code = 201;
	return 0;
}

/* ---- scale ------------------------------------------------------------------------ */

int srv_scale_get(srv_server *s, const api_kind *k, const char *ns, const char *name,
		  srv_result *res)
{
	srv_result r = {0};

	if (srv_get(s, k, ns, name, &r) < 0) {
		*res = r;
		return -1;
	}
	res->body = api_scale_of(r.body);
	res->code = 200;
	srv_result_clear(&r);
	return 0;
}

struct scale_ctx {
	json_t *scale;
};

static int scale_mutate(json_t **obj, void *ctx, json_t **status)
{
	struct scale_ctx *c = ctx;
	const char *rv = api_meta_resource_version(c->scale);

	(void)status;
	api_set_int(*obj, "spec.replicas", api_get_int(c->scale, "spec.replicas", 0));
	/* the Scale's resourceVersion is the object's: a precondition */
	if (rv && *rv)
		api_meta_set_resource_version(*obj, rv);
	return 0;
}

int srv_scale_update(srv_server *s, const api_kind *k, const char *ns, const char *name,
		     json_t *scale, const srv_write_opts *o, srv_result *res)
{
	json_t *causes = api_validate_scale(scale);
	struct scale_ctx c = {.scale = scale};
	srv_result r = {0};

	if (causes && json_array_size(causes)) {
		srv_fail(res, api_status_invalid(api_kind_by_kind("autoscaling", "Scale"), name,
						 causes));
		json_decref(causes);
		return -1;
	}
	json_decref(causes);
	const char *sname = api_meta_name(scale);
	if (sname && *sname && strcmp(sname, name) != 0)
		return srv_fail(res,
				api_status_bad_request(
					"the name of the object (%s) does not match the name on "
					"the URL (%s)",
					sname, name));
	if (srv_update_with(s, k, ns, name, scale_mutate, &c, o, &r) < 0) {
		*res = r;
		return -1;
	}
	res->body = api_scale_of(r.body);
	res->code = 200;
	srv_result_clear(&r);
	return 0;
}

int srv_scale_patch(srv_server *s, const api_kind *k, const char *ns, const char *name,
		    enum srv_patch_type type, json_t *patch, const srv_write_opts *o,
		    srv_result *res)
{
	srv_result cur = {0};
	json_t *patched = NULL;
	sk_err err = {0};
	int r;

	if (srv_scale_get(s, k, ns, name, &cur) < 0) {
		*res = cur;
		return -1;
	}
	if (type == SRV_PATCH_JSON)
		r = api_json_patch(cur.body, patch, &patched, &err);
	else if (type == SRV_PATCH_MERGE)
		r = api_merge_patch(cur.body, patch, &patched, &err);
	else
		r = api_strategic_merge_patch(NULL, cur.body, patch, &patched, &err);
	srv_result_clear(&cur);
	if (r < 0)
		return srv_fail(res, api_status_bad_request("%s", err.msg));
	/* a patch that does not name a resourceVersion is unconditional */
	if (!api_get(patch, "metadata.resourceVersion") || type == SRV_PATCH_JSON)
		api_meta_set_resource_version(patched, NULL);
	r = srv_scale_update(s, k, ns, name, patched, o, res);
	json_decref(patched);
	return r;
}
