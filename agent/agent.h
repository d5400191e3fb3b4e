/* agent: the node agent (kubelet and kube-proxy in one). Prefix: agent_.
 * This header grows with the agent's issue; the pod spec translation below
 * is the one place where a Kubernetes PodSpec becomes runtime configs. */
#ifndef SKIFF_AGENT_H
#define SKIFF_AGENT_H

#include <jansson.h>

#include "../common/common.h"
#include "../runtime/runtime.h"
#include "../volumes/volumes.h"

/* ---- pod specs (agent/podspec.c) ----------------------------------------- */

/* Where a node keeps things; NULL fields take the runtime's defaults. */
struct agent_pod_options {
	const char *image_dir;	 /* the image store (RT_IMAGE_DIR_DEFAULT) */
	const char *state_dir;	 /* RT_DEFAULT_STATE_DIR */
	const char *log_dir;	 /* RT_DEFAULT_LOG_DIR */
	const char *data_dir;	 /* RT_DEFAULT_DATA_DIR */
	const char *cgroup_root; /* RT_DEFAULT_CGROUP_ROOT */
	const char *resolv_conf; /* the pod's /etc/resolv.conf base; NULL: the host's */
};

/* A Pod made ready for the runtime: its config and its volumes. */
struct agent_pod {
	struct rt_pod_config *cfg;
	struct vol_volume *volumes;
	size_t n_volumes;
};

/* Translate a Pod (a jansson object as api_yaml_load gives it) into runtime
 * configs, with Kubernetes' defaults (restartPolicy Always,
 * terminationGracePeriodSeconds 30, namespace "default", requests = limits
 * when only limits are set, dnsPolicy ClusterFirst, ...). Images are
 * resolved through the image store, and their config (entrypoint, cmd, env,
 * workingDir) fills what the Pod does not say. Errors name the field and
 * the reason: "spec.containers[0].image: required". No side effects. */
int agent_pod_from_json(json_t *pod, const struct agent_pod_options *opt, struct agent_pod *out,
			sk_err *err);
/* Prepare the volumes on the host (emptyDir directories and tmpfs,
 * hostPath checks and creation). Call after agent_pod_from_json, before
 * rt_pod_create. */
int agent_pod_prepare_volumes(struct agent_pod *p, sk_err *err);
void agent_pod_clear(struct agent_pod *p);

/* ---- end of pod specs ---------------------------------------------------- */

#endif
