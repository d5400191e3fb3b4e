/* The pod network of `skiff play` (helper H3's part of cmd_play.c): each
 * Pod that is not hostNetwork gets a network namespace, an IP and its
 * hostPorts from netns/ before it starts, and loses them on removal. */
#ifndef SKIFF_CLI_PLAY_NET_H
#define SKIFF_CLI_PLAY_NET_H

#include <jansson.h>

#include "../runtime/runtime.h"

struct play_net_opts {
	const char *bridge;   /* NULL: skiff0 */
	const char *pod_cidr; /* NULL: 10.88.0.0/24 */
};

/* Before rt_pod_create: set cfg->netns_path and cfg->pod_ip (doc is the
 * Pod, for its hostPorts). */
int play_net_up(const struct play_net_opts *o, const char *state_dir, json_t *doc,
		struct rt_pod_config *cfg, sk_err *err);
/* After the pod is removed (or was never made): free its network. */
void play_net_down(const struct play_net_opts *o, const char *state_dir, const char *ns,
		   const char *name);

#endif
