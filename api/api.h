/* api: Kubernetes objects as JSON trees (jansson): YAML loading,
 * quantities, and (added by later work) defaulting, validation, selectors
 * and patches. Knows nothing of HTTP or the kernel. Prefix: api_. */
#ifndef SKIFF_API_H
#define SKIFF_API_H

#include <jansson.h>

#include "../common/common.h"

/* ---- YAML -------------------------------------------------------------- */
/* Parse a (multi-document) YAML or JSON text into a JSON array with one
 * element per non-empty document. `name` (a file name) prefixes errors,
 * which carry line and column: "pod.yaml:3:7: mapping values are not
 * allowed in this context". Scalars resolve as Kubernetes' YAML reader
 * (YAML 1.1) does them: null, booleans (true/false/yes/no/on/off), ints,
 * floats; quoted scalars stay strings. Depth and alias expansion are
 * bounded. */
int api_yaml_load(const char *text, size_t len, const char *name, json_t **docs, sk_err *err);
/* Read FILE (or stdin for "-") and parse it as above. */
int api_yaml_load_file(const char *path, json_t **docs, sk_err *err);

/* ---- quantities ("100m", "128Mi", "1.5", "2e3") ------------------------ */
/* Parse a Kubernetes resource quantity into thousandths of a unit
 * ("100m" -> 100, "1" -> 1000, "1Ki" -> 1024000). Negative quantities and
 * values that overflow int64 milli-units are rejected. */
int api_quantity_milli(const char *s, int64_t *milli, sk_err *err);
/* The same, in whole units rounded up ("1.5" -> 2, "128Mi" -> 134217728). */
int api_quantity_value(const char *s, int64_t *value, sk_err *err);

#endif
