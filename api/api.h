/* api: Kubernetes objects as JSON trees (jansson): YAML and JSON loading,
 * the kind registry, metadata helpers, per-kind defaulting and validation,
 * Status errors, label and field selectors, quantities, patches (merge,
 * JSON, strategic, and kubectl's three-way apply) and Tables. Knows nothing
 * of HTTP, the store or the kernel. Prefix: api_.
 *
 * Conventions for the whole header:
 * - Objects are jansson trees. "Borrowed" results live as long as the tree
 *   they point into; "new" results are owned by the caller (json_decref).
 * - Functions that can fail return < 0 and fill the sk_err passed last.
 *   Where a failure must become a particular HTTP status, the function
 *   says which err->code means what.
 * - Everything that reads untrusted input is bounded (size, depth, count)
 *   and fuzzed (tests/fuzz/). */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <jansson.h>

#include "../common/common.h"

/* Kubernetes' request body limit (3 MiB), also the default bound of the
 * JSON loader. */
#define API_MAX_BODY (3u * 1024 * 1024)
/* The deepest JSON/YAML nesting any api_ function accepts. */
#define API_MAX_DEPTH 64

/* ---- YAML and JSON ------------------------------------------------------ */
/* Parse a (multi-document) YAML or JSON text into a JSON array with one
 * element per non-empty document. `name` (a file name) prefixes errors,
 * which carry line and column: "pod.yaml:3:7: mapping values are not
 * allowed in this context". Scalars resolve as Kubernetes' YAML reader
 * (YAML 1.1) does them: null, booleans (true/false/yes/no/on/off), ints,
 * floats; quoted scalars stay strings. A text that starts with '{' is read
 * as a stream of JSON documents, as kubectl does. Depth and alias
 * expansion are bounded. */
int api_yaml_load(const char *text, size_t len, const char *name, json_t **docs, sk_err *err);
/* Read FILE (or stdin for "-") and parse it as above. */
int api_yaml_load_file(const char *path, json_t **docs, sk_err *err);
/* Parse one JSON value (a request body) of at most API_MAX_BODY bytes and
 * API_MAX_DEPTH levels; it must be an object. Errors: err->code EINVAL
 * ("invalid JSON at line L column C: ...", 400) or E2BIG (over the
 * limit, 413). */
int api_json_parse(const char *text, size_t len, json_t **obj, sk_err *err);

/* ---- quantities ("100m", "128Mi", "1.5", "2e3") ------------------------ */
/* Parse a Kubernetes resource quantity into thousandths of a unit
 * ("100m" -> 100, "1" -> 1000, "1Ki" -> 1024000). Negative quantities and
 * values that overflow int64 milli-units are rejected. */
int api_quantity_milli(const char *s, int64_t *milli, sk_err *err);
/* The same, in whole units rounded up ("1.5" -> 2, "128Mi" -> 134217728). */
int api_quantity_value(const char *s, int64_t *value, sk_err *err);
/* A quantity as JSON may be a string or a number (YAML `cpu: 1`); parse
 * either into milli-units. */
int api_quantity_json_milli(json_t *q, int64_t *milli, sk_err *err);

/* ---- paths into objects ------------------------------------------------- */
/* Dotted paths of object keys ("spec.template.spec"); no array indices.
 * Lookups on a missing or mistyped step give NULL / the default. */
json_t *api_get(json_t *obj, const char *path); /* borrowed */
const char *api_get_str(json_t *obj, const char *path);
int64_t api_get_int(json_t *obj, const char *path, int64_t dflt);
bool api_get_bool(json_t *obj, const char *path, bool dflt);
/* The object at path, creating it (and every missing or non-object step)
 * when needed; borrowed. */
json_t *api_ensure_obj(json_t *obj, const char *path);
/* Set path to val (stolen), creating intermediate objects. */
void api_set(json_t *obj, const char *path, json_t *val);
void api_set_str(json_t *obj, const char *path, const char *s);
void api_set_int(json_t *obj, const char *path, int64_t v);
/* Remove the key at path; nothing happens when it is absent. */
void api_del(json_t *obj, const char *path);

/* ---- kind registry ------------------------------------------------------ */
/* A subresource as discovery lists it ("pods/status"). group/version are
 * NULL when they are the parent's (only "scale" differs: autoscaling/v1). */
typedef struct api_subresource {
	const char *name; /* "status", "scale", "binding", "log", "exec" */
	const char *kind; /* "Pod", "Scale", "Binding", "PodExecOptions" */
	const char *group;
	const char *version;
	const char *const *verbs; /* NULL-terminated */
} api_subresource;

typedef struct api_kind {
	const char *group;	 /* "" for the core group, "apps", ... */
	const char *version;	 /* "v1" */
	const char *api_version; /* "v1", "apps/v1": the objects' apiVersion */
	const char *kind;	 /* "Deployment" */
	const char *list_kind;	 /* "DeploymentList" */
	const char *resource;	 /* "deployments" */
	const char *singular;	 /* "deployment" */
	bool namespaced;
	bool has_status;		/* a /status subresource: writes to the main
					 * resource keep the stored status */
	const char *const *short_names; /* NULL-terminated, may be empty */
	const char *const *categories;	/* NULL-terminated ("all") */
	const char *const *verbs;	/* NULL-terminated, discovery order */
	const api_subresource *subresources;
	size_t n_subresources;
} api_kind;

/* Every kind skiff serves, in discovery order (core first, then apps,
 * then coordination.k8s.io); *n gets the count. */
const api_kind *api_kinds(size_t *n);
/* Look up by Kind ("Pod") in a group; group NULL means any group. */
const api_kind *api_kind_by_kind(const char *group, const char *kind);
/* Look up by apiVersion and kind as they appear in an object
 * ("apps/v1", "Deployment"); NULL when the version or kind is unknown. */
const api_kind *api_kind_by_gvk(const char *api_version, const char *kind);
/* Look up by group and plural resource ("apps", "deployments"). */
const api_kind *api_kind_by_resource(const char *group, const char *resource);
/* Resolve what a user types as kubectl does: a resource ("pods"), its
 * singular ("pod"), a short name ("po"), the Kind in any case ("Pod"),
 * each optionally qualified with a group or version.group
 * ("deployments.apps", "deploy.apps", "deployments.v1.apps"). NULL when
 * nothing matches. */
const api_kind *api_kind_resolve(const char *name);
/* The kind of an object from its apiVersion and kind; NULL if unknown. */
const api_kind *api_kind_of(json_t *obj);
/* Check that an object is of kind k: apiVersion and kind, when present,
 * must be k's; missing ones are filled in. err (EINVAL) reads
 * `the API version in the data (apps/v2) does not match the expected API
 * version (apps/v1)` or `the kind in the data (Service) does not match the
 * expected kind (Pod)`, as a 400 BadRequest message. */
int api_kind_check(const api_kind *k, json_t *obj, sk_err *err);
/* A subresource of k by name, or NULL. */
const api_subresource *api_kind_subresource(const api_kind *k, const char *name);
/* "deployments.apps" or "pods": the qualified resource used in Status
 * messages; buf >= 128. */
const char *api_kind_qualified_resource(const api_kind *k, char *buf, size_t n);
/* Discovery's storageVersionHash: base64 of the first 8 bytes of
 * sha256("group/version/Kind"), as the apiserver computes it; buf >= 16. */
void api_kind_storage_version_hash(const api_kind *k, char *buf, size_t n);

/* ---- metadata ----------------------------------------------------------- */
/* Getters return borrowed strings or NULL when absent. */
const char *api_meta_name(json_t *obj);
const char *api_meta_generate_name(json_t *obj);
const char *api_meta_namespace(json_t *obj);
const char *api_meta_uid(json_t *obj);
const char *api_meta_resource_version(json_t *obj);
const char *api_meta_creation_timestamp(json_t *obj);
const char *api_meta_deletion_timestamp(json_t *obj);
int64_t api_meta_generation(json_t *obj); /* 0 when absent */
/* Setters replace the field; a NULL string removes it. */
void api_meta_set_name(json_t *obj, const char *name);
void api_meta_set_namespace(json_t *obj, const char *ns);
void api_meta_set_uid(json_t *obj, const char *uid);
void api_meta_set_resource_version(json_t *obj, const char *rv);
/* resourceVersion as the store's revision; 0 when absent, -1 when not a
 * decimal integer. */
int64_t api_meta_resource_version_int(json_t *obj);
void api_meta_set_resource_version_int(json_t *obj, int64_t rv);
void api_meta_set_creation_timestamp(json_t *obj, int64_t unix_sec);
void api_meta_set_deletion_timestamp(json_t *obj, int64_t unix_sec);
void api_meta_set_generation(json_t *obj, int64_t generation);
/* Labels and annotations: the map (borrowed, NULL when absent), one value,
 * and set (value NULL removes the key; an emptied map stays as {}). */
json_t *api_meta_labels(json_t *obj);
const char *api_meta_label(json_t *obj, const char *key);
void api_meta_set_label(json_t *obj, const char *key, const char *value);
json_t *api_meta_annotations(json_t *obj);
const char *api_meta_annotation(json_t *obj, const char *key);
void api_meta_set_annotation(json_t *obj, const char *key, const char *value);
/* Finalizers (metadata.finalizers, a set of strings). */
bool api_meta_has_finalizer(json_t *obj, const char *finalizer);
void api_meta_add_finalizer(json_t *obj, const char *finalizer);
/* Returns true when it was there. */
bool api_meta_remove_finalizer(json_t *obj, const char *finalizer);
/* Owner references: the array (borrowed, NULL when absent), the one with
 * controller: true (borrowed, NULL when none), whether `uid` owns obj. */
json_t *api_meta_owner_refs(json_t *obj);
json_t *api_meta_controller_ref(json_t *obj);
bool api_meta_is_owned_by(json_t *obj, const char *owner_uid);
/* A new ownerReference pointing at owner ({apiVersion, kind, name, uid,
 * controller, blockOwnerDeletion}), as controllers set it. */
json_t *api_owner_ref_new(json_t *owner, bool controller, bool block_owner_deletion);
/* A PartialObjectMetadata (meta.k8s.io/v1) with a copy of obj's metadata. */
json_t *api_partial_metadata(json_t *obj);

/* ---- object lifecycle as the apiserver's strategies do it -------------- */
/* Fill in the defaults the apiserver's defaulting functions apply to a
 * decoded object of kind k (idempotent; fields already set are kept):
 * Pod: restartPolicy Always, terminationGracePeriodSeconds 30, dnsPolicy
 * ClusterFirst, schedulerName default-scheduler, securityContext {},
 * enableServiceLinks true; per container imagePullPolicy (Always for
 * :latest or no tag, else IfNotPresent), terminationMessagePath/Policy,
 * resources {} (requests from limits), ports[].protocol TCP, probe
 * thresholds; volumes without a source are emptyDir;
 * Service: type ClusterIP, sessionAffinity None, ports[].protocol TCP and
 * targetPort = port, internalTrafficPolicy Cluster (clusterIPs,
 * ipFamilies and ipFamilyPolicy come with the allocated address: see
 * api_service_set_cluster_ip);
 * Deployment: replicas 1, strategy RollingUpdate 25%/25%,
 * revisionHistoryLimit 10, progressDeadlineSeconds 600, template defaults;
 * ReplicaSet: replicas 1; Namespace: the kubernetes.io/metadata.name
 * label, status.phase Active; PV: persistentVolumeReclaimPolicy Retain,
 * volumeMode Filesystem; PVC: volumeMode Filesystem; Secret: type Opaque,
 * stringData folded into data; resource quantities in canonical form.
 * docs/api.md has the rest. */
void api_default(const api_kind *k, json_t *obj);
/* What the apiserver does to a new object before validation and storage
 * (after api_default): status reset to its initial value (Pod:
 * {phase: Pending, qosClass}; Namespace: {phase: Active} and the
 * "kubernetes" spec finalizer; Deployment/ReplicaSet: {} and generation
 * 1; Service: {loadBalancer: {}}; PV/PVC: {phase: Pending}),
 * deletionTimestamp dropped, and what the default admission plugins add
 * to a Pod (priority 0, preemptionPolicy, the not-ready/unreachable
 * tolerations). uid, creationTimestamp, resourceVersion and names are the
 * server's job. */
void api_prepare_create(const api_kind *k, json_t *obj);
/* The same for an update of old to obj through the main resource: the
 * stored status is kept (kinds with a status subresource), server fields
 * (generation, uid when missing, creationTimestamp, deletionTimestamp,
 * deletionGracePeriodSeconds) come from old, a Namespace keeps its spec
 * finalizers, a Service left without clusterIP or nodePorts keeps the
 * allocated ones, and generation is bumped as Kubernetes does it:
 * Deployments on a spec or annotation change, ReplicaSets on a spec
 * change (other kinds have none). */
void api_prepare_update(const api_kind *k, json_t *obj, json_t *old);
/* An update through /status: every top-level field but metadata and
 * status comes from old, and the server fields; a Pod keeps its
 * ownerReferences and a Deployment or ReplicaSet its labels; the rest of
 * metadata and the status come from obj, as the status strategies do. */
void api_prepare_status_update(const api_kind *k, json_t *obj, json_t *old);
/* Record the ClusterIP the server allocated (or "None" for a headless
 * Service) as the apiserver does: spec.clusterIP, spec.clusterIPs,
 * spec.ipFamilies ([IPv4] or [IPv6]) and spec.ipFamilyPolicy SingleStack
 * when unset. */
void api_service_set_cluster_ip(json_t *svc, const char *ip);
/* Two objects are equal for "did this write change anything" (a no-op
 * write must not bump resourceVersion): deep equality ignoring
 * metadata.resourceVersion and metadata.managedFields. */
bool api_semantic_equal(json_t *a, json_t *b);

/* ---- validation --------------------------------------------------------- */
/* Validate obj of kind k as the apiserver does, on create (old NULL) or on
 * update from old (immutable fields, pod update rules). Returns a new
 * array of causes, empty when valid, each
 *   {"reason": "FieldValueInvalid", "message": "Invalid value: \"X\": ...",
 *    "field": "metadata.name"}
 * with Kubernetes' reasons (FieldValueRequired, FieldValueInvalid,
 * FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden,
 * FieldValueTooLong, FieldValueTooMany, FieldValueNotFound,
 * FieldValueTypeInvalid) and message bodies. */
json_t *api_validate(const api_kind *k, json_t *obj, json_t *old);
/* Validate a write to the /status subresource (obj is the new object). */
json_t *api_validate_status(const api_kind *k, json_t *obj, json_t *old);
/* Validate a Binding (pods/binding body) and an autoscaling/v1 Scale. */
json_t *api_validate_binding(json_t *binding);
json_t *api_validate_scale(json_t *scale);
/* Name checks used by the server outside object validation. Each returns
 * NULL when valid, else a static message (Kubernetes' wording). */
const char *api_check_dns1123_label(const char *s);
const char *api_check_dns1123_subdomain(const char *s);
const char *api_check_dns1035_label(const char *s);
const char *api_check_qualified_name(const char *s);
const char *api_check_label_value(const char *s);

/* ---- Status objects (errors and success) ------------------------------- */
/* All return a new {"kind":"Status","apiVersion":"v1","metadata":{},
 * "status":"Failure",message,reason,details,code} shaped exactly as the
 * apiserver's (shared/kubectl/shapes/status_*.json). The HTTP code is
 * api_status_code(). k may be NULL where no kind is known. */
json_t *api_status_new(int code, const char *reason, const char *message, json_t *details);
int api_status_code(json_t *status);
/* 404 `pods "x" not found` (k NULL: `the server could not find the
 * requested resource`, no details). */
json_t *api_status_not_found(const api_kind *k, const char *name);
/* 409 `services "x" already exists`. */
json_t *api_status_already_exists(const api_kind *k, const char *name);
/* 409 Conflict: `Operation cannot be fulfilled on pods "x": <why>`; why
 * NULL means the stale-resourceVersion text ("the object has been
 * modified; please apply your changes to the latest version and try
 * again"). */
json_t *api_status_conflict(const api_kind *k, const char *name, const char *why);
/* 422 Invalid from api_validate's causes (borrowed):
 * `Namespace "X" is invalid: metadata.name: Invalid value: ...`, several
 * causes as `[a, b]`, details {name, group, kind (the Kind), causes}. */
json_t *api_status_invalid(const api_kind *k, const char *name, json_t *causes);
/* 400 BadRequest with the message as given. */
json_t *api_status_bad_request(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 410: reason Expired (`too old resource version: 5 (100)`, what a watch
 * sends) or Gone (a continue token too old). */
json_t *api_status_expired(int64_t requested, int64_t oldest);
json_t *api_status_gone(const char *message);
/* 401 `Unauthorized`. */
json_t *api_status_unauthorized(void);
/* 403 `pods "x" is forbidden: <why>` (name may be NULL). */
json_t *api_status_forbidden(const api_kind *k, const char *name, const char *why);
/* 405 `<method> is not supported on resources of kind "pods"`. */
json_t *api_status_method_not_allowed(const api_kind *k, const char *method);
/* 415 `the body of the request was in an unknown format - accepted media
 * types include: <accepted>` (accepted NULL: the four patch types). */
json_t *api_status_unsupported_media_type(const char *accepted);
/* 413 `Request entity too large: limit is 3145728`. */
json_t *api_status_too_large(size_t limit);
/* 500 `Internal error occurred: <why>`, with the cause in details. */
json_t *api_status_internal(const char *why);
/* 200 Success for a DELETE: details {name, group, kind: resource, uid}. */
json_t *api_status_success(const api_kind *k, const char *name, const char *uid);

/* ---- label and field selectors ----------------------------------------- */
/* One parsed selector: a conjunction of requirements. Label selectors
 * ("app=web,tier!=db,env in (a,b),!canary") as labels.Parse does them;
 * field selectors ("metadata.name=x,status.phase!=Running") as
 * fields.ParseSelector. An empty string selects everything. */
typedef struct api_selector api_selector;
void api_selector_free(api_selector *sel);
#define _cleanup_selector_ _cleanup_(api_selector_freep)
void api_selector_freep(api_selector **sel);

/* Parse a label selector string. Bounded (16 KiB, 256 requirements, 256
 * values each; E2BIG past them); err (EINVAL) names the problem as
 * Kubernetes does (`unable to parse requirement: ...`, `found 'x',
 * expected: ...`); both are 400 BadRequest. */
int api_label_selector_parse(const char *s, api_selector **out, sk_err *err);
/* A metav1.LabelSelector object ({matchLabels, matchExpressions}).
 * NULL json gives a selector matching nothing (as Kubernetes' nil
 * selector); {} matches everything. */
int api_label_selector_from_json(json_t *ls, api_selector **out, sk_err *err);
/* A plain map selector (Service spec.selector, RC selector): each key =
 * value. An empty or NULL map matches everything. */
int api_label_selector_from_map(json_t *map, api_selector **out, sk_err *err);
/* Does a labels map (NULL = no labels) satisfy sel? */
bool api_label_selector_matches(const api_selector *sel, json_t *labels);
/* The canonical string (keys sorted, as labels.Selector.String()), e.g.
 * for Scale status.selector and `-l` queries built from a LabelSelector;
 * new string. A matches-nothing selector gives "" with *nothing = true. */
char *api_selector_string(const api_selector *sel, bool *nothing);
bool api_selector_empty(const api_selector *sel); /* selects everything */

/* Parse a field selector for kind k: only fields the apiserver supports
 * for k (metadata.name and metadata.namespace always; pods spec.nodeName,
 * spec.restartPolicy, spec.schedulerName, spec.serviceAccountName,
 * spec.hostNetwork, status.phase, status.podIP, status.nominatedNodeName;
 * events involvedObject.*, reason, source, type, reportingComponent;
 * secrets type; namespaces status.phase; nodes spec.unschedulable;
 * replicasets status.replicas). err (EINVAL) reads
 * `field label not supported: x` or `invalid selector: ...`; both are
 * 400 BadRequest. */
int api_field_selector_parse(const api_kind *k, const char *s, api_selector **out, sk_err *err);
/* Does obj (of the kind the selector was parsed for) satisfy sel? */
bool api_field_selector_matches(const api_selector *sel, json_t *obj);
/* A small new object holding only the fields api_field_selector_matches()
 * reads for kind k (metadata.name/namespace and the kind's field labels),
 * so a cache can keep it instead of the whole object; matching it gives
 * the same answer as matching obj. */
json_t *api_field_set(const api_kind *k, json_t *obj);

/* ---- patches ------------------------------------------------------------ */
/* Each returns a new patched document and leaves its inputs untouched.
 * Errors: err->code EINVAL when the patch document itself is malformed
 * (400 BadRequest), E2BIG when it exceeds a bound (413 or 422 as the
 * caller sees fit), and EPROTO when a well-formed patch does not apply (a
 * JSON patch `test` that fails, a path that does not exist: 422 Invalid
 * with the message). */
/* RFC 7386 JSON merge patch (application/merge-patch+json). */
int api_merge_patch(json_t *doc, json_t *patch, json_t **out, sk_err *err);
/* RFC 6902 JSON patch (application/json-patch+json): add, remove,
 * replace, move, copy, test; "~0"/"~1" escapes; "-" appends. At most
 * 10,000 operations, as the apiserver. */
int api_json_patch(json_t *doc, json_t *ops, json_t **out, sk_err *err);
/* Strategic merge patch (application/strategic-merge-patch+json) as the
 * apiserver applies it to kind k: lists merge by Kubernetes' merge keys
 * (containers by name, ports by containerPort/port, env by name, volumes
 * by name, volumeMounts by mountPath, ownerReferences by uid, conditions by
 * type, ...), other lists are replaced, finalizers merge as a set;
 * directives $patch (replace, delete, merge), $setElementOrder/<list>,
 * $retainKeys, $deleteFromPrimitiveList/<list>. k NULL treats every list
 * as atomic (a plain merge with directives). */
int api_strategic_merge_patch(const api_kind *k, json_t *doc, json_t *patch, json_t **out,
			      sk_err *err);
/* The annotation kubectl apply keeps the last applied configuration in. */
#define API_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
/* What kubectl apply sends: from the configuration in the file (`config`,
 * as loaded), return a copy of it with the last-applied annotation set to
 * its own JSON (without that annotation, compact, sorted keys, plus a
 * newline), as kubectl's GetModifiedConfiguration does. This is the body
 * for a create and the "modified" input of api_apply_patch. */
json_t *api_apply_modified(json_t *config);
/* kubectl's client-side apply patch: the three-way strategic merge patch
 * from the live object's last-applied configuration (`original`, NULL
 * when the annotation is missing), the new `modified` (from
 * api_apply_modified) and the `live` object, with kubectl's rules:
 * fields deleted since last-applied are deleted, fields changed since
 * live are set, $setElementOrder for merged lists, and server-added fields
 * (defaults, status) are left alone. *patch is {} when nothing changes
 * (kubectl then prints "unchanged"). */
int api_apply_patch(const api_kind *k, json_t *original, json_t *modified, json_t *live,
		    json_t **patch, sk_err *err);

/* ---- Tables (server-side printing, meta.k8s.io/v1) -------------------- */
enum api_table_include {
	API_TABLE_METADATA, /* row.object is a PartialObjectMetadata (default) */
	API_TABLE_OBJECT,   /* includeObject=Object: the whole object */
	API_TABLE_NONE,	    /* includeObject=None */
};
/* The columnDefinitions kubectl shows for k (NAME ... AGE, then the
 * priority-1 "wide" columns); new array. Unknown kinds get Name, Age. */
json_t *api_table_columns(const api_kind *k);
/* One row {cells, object} for obj at time now (unix seconds). */
json_t *api_table_row(const api_kind *k, json_t *obj, int64_t now, enum api_table_include inc);
/* A whole Table for a list of objects (borrowed array), with
 * metadata.resourceVersion rv (NULL: none). */
json_t *api_table(const api_kind *k, json_t *items, const char *rv, int64_t now,
		  enum api_table_include inc);
/* kubectl's human duration (duration.HumanDuration): "5s", "3m2s",
 * "2d", "3y45d"; "<invalid>" for a negative age beyond the clock skew
 * margin. buf >= 32. */
const char *api_human_duration(int64_t seconds, char *buf, size_t n);
/* The AGE cell of obj: human duration since creationTimestamp, "<unknown>"
 * when it is missing. */
const char *api_age(json_t *obj, int64_t now, char *buf, size_t n);
/* The STATUS column of `kubectl get pods` (Running, Pending,
 * ContainerCreating, CrashLoopBackOff, Completed, Error, Terminating,
 * Init:0/1, ...); buf >= 64. */
const char *api_pod_status_text(json_t *pod, char *buf, size_t n);

/* ---- printing as kubectl prints (api/yaml_dump.c; owned by the CLI) ---- */
/* Append v as `kubectl -o yaml` prints it (sigs.k8s.io/yaml over go-yaml
 * v2): go-yaml's key order, block style, timestamps and YAML 1.1 look-alikes
 * double-quoted, multi-line strings as literal blocks, folding at column 80.
 * Ends with a newline. */
void api_yaml_dump(json_t *v, sk_buf *out);
/* Append v as `kubectl -o json` prints it (Go's json.MarshalIndent with
 * four spaces: sorted keys, <>& escaped as \u003c...), with a newline. */
void api_json_dump(json_t *v, sk_buf *out);
/* A quantity (string or number) as resource.Quantity.String() prints it
 * in canonical form: "24576Mi" -> "24Gi", "0.5" -> "500m", "2000" -> "2k";
 * binary suffixes stay binary, everything else is decimal SI. A value that
 * does not parse is returned as given. New string. */
char *api_quantity_string(json_t *q);
/* Execute a kubectl JSONPath template (`-o jsonpath=...`) on root and
 * append the text to out: {.a.b}, {$.x}, ['key'], [n], [a:b], [*], .*,
 * ..name, [?(@.k=="v")], {range ...}{end}, quoted literals. Missing keys
 * print nothing; maps and lists print as compact JSON. err (EINVAL) reads
 * as kubectl's: `error parsing jsonpath ...` or `error executing jsonpath
 * "...": Error executing template: array index out of bounds: ...`. */
int api_jsonpath(const char *tmpl, json_t *root, sk_buf *out, sk_err *err);

/* ---- lists, scale ------------------------------------------------------- */
/* A new {"kind":"<Kind>List","apiVersion",metadata:{resourceVersion},
 * items}; items is borrowed (a reference is taken), NULL gives []. */
json_t *api_list_new(const api_kind *k, json_t *items, const char *rv);
/* The autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
json_t *api_scale_of(json_t *obj);

#endif
