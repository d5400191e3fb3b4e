/* A Service as last programmed, one small text file each under
 * <state>/net/services/<ns>_<name>, so a change is diffed against what is
 * in the kernel without reading the other 10,000. The text form:
 *   service NS NAME CLUSTERIP|None None|ClientIP TIMEOUT
 *   port NAME|- tcp|udp PORT TARGETPORT NODEPORT
 *   endpoint IP HOSTNAME|- P0,P1,...
 * Names are DNS labels, so none holds a space, '_' or ','. */
#include "net_internal.h"

#include <errno.h>
#include <unistd.h>

#define SVC_STATE_MAX (16u << 20)

void net_service_clear(struct net_service *svc)
{
	free(svc->endpoints);
	memset(svc, 0, sizeof(*svc));
}

void net_service_copy(struct net_service *dst, const struct net_service *src)
{
	*dst = *src;
	dst->endpoints = NULL;
	if (src->n_endpoints) {
		dst->endpoints = sk_calloc(src->n_endpoints, sizeof(*dst->endpoints));
		memcpy(dst->endpoints, src->endpoints, src->n_endpoints * sizeof(*dst->endpoints));
	}
}

char *net_svc_format(const struct net_service *svc)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_printf(&b, "service %s %s %s %s %u\n", svc->ns, svc->name,
		      svc->cluster_ip[0] ? svc->cluster_ip : "None",
		      svc->affinity_client_ip ? "ClientIP" : "None", svc->affinity_timeout);
	for (size_t i = 0; i < svc->n_ports; i++) {
		const struct net_service_port *p = &svc->ports[i];
		sk_buf_printf(&b, "port %s %s %u %u %u\n", p->name[0] ? p->name : "-",
			      net_proto_name(p->protocol), p->port, p->target_port, p->node_port);
	}
	for (size_t i = 0; i < svc->n_endpoints; i++) {
		const struct net_endpoint *e = &svc->endpoints[i];
		sk_buf_printf(&b, "endpoint %s %s ", e->ip, e->hostname[0] ? e->hostname : "-");
		for (size_t j = 0; j < svc->n_ports; j++)
			sk_buf_printf(&b, "%s%u", j ? "," : "", e->ports[j]);
		sk_buf_puts(&b, svc->n_ports ? "\n" : "-\n");
	}
	return sk_buf_steal(&b);
}

static int parse_port_line(const char *line, struct net_service *svc, sk_err *err)
{
	struct net_service_port *p;
	char name[NET_NAME_MAX], proto[8];
	unsigned port, target, node;

	if (svc->n_ports == NET_SVC_MAX_PORTS)
		return sk_err_set(err, EINVAL, "more than %d ports", NET_SVC_MAX_PORTS);
	if (sscanf(line, "port %63s %7s %u %u %u", name, proto, &port, &target, &node) != 5 ||
	    port > 65535 || target > 65535 || node > 65535)
		return sk_err_set(err, EINVAL, "bad line \"%s\"", line);
	p = &svc->ports[svc->n_ports++];
	snprintf(p->name, sizeof(p->name), "%s", strcmp(name, "-") ? name : "");
	p->protocol = strcmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
	p->port = (uint16_t)port;
	p->target_port = (uint16_t)target;
	p->node_port = (uint16_t)node;
	return 0;
}

static int parse_endpoint_line(const char *line, struct net_service *svc, size_t *cap, sk_err *err)
{
	struct net_endpoint *e;
	char ip[16], host[NET_NAME_MAX], ports[NET_SVC_MAX_PORTS * 6 + 1];
	char *save = NULL;
	size_t j = 0;

	if (sscanf(line, "endpoint %15s %63s %192s", ip, host, ports) != 3)
		return sk_err_set(err, EINVAL, "bad line \"%s\"", line);
	if (svc->n_endpoints == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		svc->endpoints = sk_realloc(svc->endpoints, *cap * sizeof(*svc->endpoints));
	}
	e = &svc->endpoints[svc->n_endpoints++];
	memset(e, 0, sizeof(*e));
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	snprintf(e->hostname, sizeof(e->hostname), "%s", strcmp(host, "-") ? host : "");
	for (char *t = strtok_r(ports, ",", &save); t && strcmp(t, "-") && j < NET_SVC_MAX_PORTS;
	     t = strtok_r(NULL, ",", &save)) {
		int64_t v;
		if (sk_parse_int64(t, 0, 65535, &v, err) < 0)
			return sk_err_wrap(err, "endpoint %s", ip);
		e->ports[j++] = (uint16_t)v;
	}
	return 0;
}

int net_svc_parse(const char *text, struct net_service *out, sk_err *err)
{
	_cleanup_free_ char *copy = sk_strdup(text);
	char *save = NULL, cip[16], aff[16];
	size_t cap = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (char *line = strtok_r(copy, "\n", &save); line && ret == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sk_startswith(line, "service ")) {
			if (sscanf(line, "service %63s %63s %15s %15s %u", out->ns, out->name, cip,
				   aff, &out->affinity_timeout) != 5)
				ret = sk_err_set(err, EINVAL, "bad line \"%s\"", line);
			snprintf(out->cluster_ip, sizeof(out->cluster_ip), "%s",
				 strcmp(cip, "None") ? cip : "");
			out->affinity_client_ip = !strcmp(aff, "ClientIP");
		} else if (sk_startswith(line, "port ")) {
			ret = parse_port_line(line, out, err);
		} else if (sk_startswith(line, "endpoint ")) {
			ret = parse_endpoint_line(line, out, &cap, err);
		} else {
			ret = sk_err_set(err, EINVAL, "bad line \"%s\"", line);
		}
	}
	if (ret == 0 && !out->name[0])
		ret = sk_err_set(err, EINVAL, "no service line");
	if (ret < 0)
		net_service_clear(out);
	return ret;
}

static char *svc_path(net_node *node, const char *ns, const char *name)
{
	return sk_asprintf("%s/services/%s_%s", node->net_dir, ns, name);
}

int net_svc_save(net_node *node, const struct net_service *svc, sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "services");
	_cleanup_free_ char *path = svc_path(node, svc->ns, svc->name);
	_cleanup_free_ char *text = net_svc_format(svc);

	if (sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	return net_write_state(path, text, err);
}

int net_svc_load(net_node *node, const char *ns, const char *name, struct net_service *out,
		 sk_err *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;

	if (!net_is_dns_label(ns) || !net_is_dns_label(name))
		return sk_err_set(err, EINVAL, "service \"%s/%s\": not a valid name", ns, name);
	path = svc_path(node, ns, name);
	if (sk_read_file(path, SVC_STATE_MAX, &text, NULL, err) < 0)
		return -1;
	if (net_svc_parse(text, out, err) < 0)
		return sk_err_wrap(err, "%s", path);
	return 0;
}

int net_svc_remove(net_node *node, const char *ns, const char *name, sk_err *err)
{
	_cleanup_free_ char *path = svc_path(node, ns, name);

	if (unlink(path) < 0 && errno != ENOENT)
		return sk_err_sys(err, errno, "remove %s", path);
	return 0;
}
