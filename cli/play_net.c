/* skiff play's pod network: see play_net.h. The node network lives with
 * the pods' state (the play --state-dir), so a second skiff with its own
 * state dir (tests) has a node network of its own. */
#include "cli.h"
#include "play_net.h"

#include <errno.h>

#include "../netns/netns.h"

static int open_node(const struct play_net_opts *o, const char *state_dir, net_node **node,
		     sk_err *err)
{
	struct net_node_config cfg = {
		.state_dir = state_dir, .bridge = o->bridge, .pod_cidr = o->pod_cidr};

	return net_node_open(&cfg, node, err);
}

/* spec.containers[].ports[].hostPort: what the Pod publishes on the node. */
static int host_ports(json_t *doc, struct net_host_port **out, size_t *n, sk_err *err)
{
	json_t *containers = json_object_get(json_object_get(doc, "spec"), "containers"), *c, *p;
	size_t i, j;

	*out = NULL;
	*n = 0;
	json_array_foreach (containers, i, c) {
		json_array_foreach (json_object_get(c, "ports"), j, p) {
			json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
			json_int_t cp = json_integer_value(json_object_get(p, "containerPort"));
			const char *proto = json_string_value(json_object_get(p, "protocol"));
			if (!json_object_get(p, "hostPort"))
				continue;
			if (hp < 1 || hp > 65535 || cp < 1 || cp > 65535)
				return sk_err_set(
					err, EINVAL,
					"spec.containers[%zu].ports[%zu].hostPort: must be "
					"1-65535, with a containerPort",
					i, j);
			*out = sk_realloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = (struct net_host_port){
				.protocol =
					proto && !strcmp(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP,
				.host_port = (uint16_t)hp,
				.container_port = (uint16_t)cp};
		}
	}
	return 0;
}

int play_net_up(const struct play_net_opts *o, const char *state_dir, json_t *doc,
		struct rt_pod_config *cfg, sk_err *err)
{
	_cleanup_net_node_ net_node *node = NULL;
	_cleanup_free_ struct net_host_port *ports = NULL;
	_cleanup_free_ char *uid = NULL;
	struct net_pod pod;
	size_t n = 0;

	if (cfg->host_network)
		return 0;
	uid = rt_pod_id(cfg->namespace ? cfg->namespace : "default", cfg->name);
	if (host_ports(doc, &ports, &n, err) < 0 || open_node(o, state_dir, &node, err) < 0 ||
	    net_node_ensure(node, err) < 0)
		return sk_err_wrap(err, "pod %s: network", cfg->name);
	struct net_pod_config pc = {.uid = uid, .host_ports = ports, .n_host_ports = n};
	if (net_pod_setup(node, &pc, &pod, err) < 0)
		return sk_err_wrap(err, "pod %s", cfg->name);
	free(cfg->netns_path);
	free(cfg->pod_ip);
	cfg->netns_path = sk_strdup(pod.netns_path);
	cfg->pod_ip = sk_strdup(pod.ip);
	return 0;
}

void play_net_down(const struct play_net_opts *o, const char *state_dir, const char *ns,
		   const char *name)
{
	_cleanup_net_node_ net_node *node = NULL;
	_cleanup_free_ char *uid = rt_pod_id(ns ? ns : "default", name);
	sk_err err;

	if (open_node(o, state_dir, &node, &err) < 0 || net_pod_teardown(node, uid, &err) < 0) {
		sk_warn("pod %s: network teardown: %s", name, err.msg);
		return;
	}
	/* the last pod gone: play leaves no bridge or table behind */
	if (net_node_release(node, &err) < 0)
		sk_warn("node network: %s", err.msg);
}
