/* The agent's life: configuration, the server's CA from a join token,
 * registration, the node network once the pod CIDR is known, the watches
 * (its Node, its pods, Services, Endpoints), the heartbeat and the HTTPS
 * endpoint; then the loop until it is told to stop. Stopping the agent
 * never stops pods: they run on under their supervisors and the next
 * agent adopts them. */
#include "agent_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REGISTER_RETRY_MAX_MS 5000
#define NETWORK_RETRY_MS 5000

int agent_post_drain(sk_loop *loop, int fd, uint32_t events, void *data);
static int on_stop(sk_loop *loop, int fd, uint32_t events, void *data);

/* ---- configuration ------------------------------------------------------------ */

static const char *dup_or(const char *s, const char *dflt)
{
	return s ? sk_strdup(s) : dflt ? sk_strdup(dflt) : NULL;
}

static void free_const(const char *s)
{
	free((char *)s);
}

static void config_copy(struct agent_config *dst, const struct agent_config *src)
{
	*dst = *src;
	dst->server = dup_or(src->server, NULL);
	dst->token = dup_or(src->token, NULL);
	dst->ca_file = dup_or(src->ca_file, NULL);
	dst->ca_pem = dup_or(src->ca_pem, NULL);
	dst->node_name = dup_or(src->node_name, NULL);
	dst->node_ip = dup_or(src->node_ip, NULL);
	dst->data_dir = dup_or(src->data_dir, AGENT_DEFAULT_DATA_DIR);
	dst->image_dir = dup_or(src->image_dir, RT_IMAGE_DIR_DEFAULT);
	dst->state_dir = dup_or(src->state_dir, RT_DEFAULT_STATE_DIR);
	dst->log_dir = dup_or(src->log_dir, RT_DEFAULT_LOG_DIR);
	dst->pod_data_dir = dup_or(src->pod_data_dir, RT_DEFAULT_DATA_DIR);
	dst->cgroup_root = dup_or(src->cgroup_root, RT_DEFAULT_CGROUP_ROOT);
	dst->pod_cidr = dup_or(src->pod_cidr, NULL);
	dst->cluster_cidr = dup_or(src->cluster_cidr, "10.88.0.0/16");
	dst->service_cidr = dup_or(src->service_cidr, "10.96.0.0/16");
	dst->bridge = dup_or(src->bridge, "skiff0");
	dst->nft_table = dup_or(src->nft_table, "skiff");
	dst->cluster_domain = dup_or(src->cluster_domain, "cluster.local");
	dst->listen = dup_or(src->listen, "0.0.0.0:10250");
	dst->exe = dup_or(src->exe, "/proc/self/exe");
	dst->dns_port = src->dns_port ? src->dns_port : 53;
	dst->max_pods = src->max_pods > 0 ? src->max_pods : 110;
	dst->labels = NULL;
	for (size_t i = 0; src->labels && src->labels[i]; i++)
		dst->labels = (const char **)sk_strv_push((char **)dst->labels, src->labels[i]);
}

static void config_free(struct agent_config *c)
{
	const char *fields[] = {c->server,    c->token,		 c->ca_file,	  c->ca_pem,
				c->node_name, c->node_ip,	 c->data_dir,	  c->image_dir,
				c->state_dir, c->log_dir,	 c->pod_data_dir, c->cgroup_root,
				c->pod_cidr,  c->cluster_cidr,	 c->service_cidr, c->bridge,
				c->nft_table, c->cluster_domain, c->listen,	  c->exe};

	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++)
		free_const(fields[i]);
	sk_strv_free((char **)c->labels);
}

static char *default_node_name(void)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return sk_strdup(host);
}

/* The host part of the server URL. */
static char *server_host(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end;

	p = p ? p + 3 : url;
	if (*p == '[') {
		end = strchr(p, ']');
		return end ? sk_strndup(p + 1, (size_t)(end - p - 1)) : sk_strdup(p);
	}
	end = p + strcspn(p, ":/");
	return sk_strndup(p, (size_t)(end - p));
}

static char *first_interface_ip(const char *skip)
{
	struct ifaddrs *ifa = NULL;
	char buf[INET_ADDRSTRLEN] = "127.0.0.1";

	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP) ||
			    sk_streq(i->ifa_name, skip))
				continue;
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
				  sizeof(buf));
			break;
		}
		freeifaddrs(ifa);
	}
	return sk_strdup(buf);
}

/* The node's InternalIP: the address this machine uses to reach the
 * server (what the server can reach it at), or the first interface's
 * (not the pods' bridge) when the server is on loopback. */
static char *detect_host_ip(const char *server, const char *bridge)
{
	_cleanup_free_ char *host = server_host(server);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	char buf[INET_ADDRSTRLEN];
	int fd;

	if (getaddrinfo(host, "443", &hints, &res) != 0 || !res)
		return first_interface_ip(bridge);
	struct sockaddr_in *sa = (struct sockaddr_in *)res->ai_addr;
	bool loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
	fd = loopback ? -1 : socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return first_interface_ip(bridge);
	}
	close(fd);
	freeaddrinfo(res);
	inet_ntop(AF_INET, &local.sin_addr, buf, sizeof(buf));
	return sk_strdup(buf);
}

/* A k3s-style join token "K10<sha256 of the CA>::<credentials>": fetch the
 * CA from /cacerts without verification, then check it against the hash. */
static int fetch_ca(struct agent_config *cfg, sk_err *err)
{
	const char *tok = cfg->token;
	const char *sep = tok ? strstr(tok, "::") : NULL;
	struct sk_http_config hc = {.server = cfg->server, .insecure = true, .timeout_ms = 10000};
	struct sk_http_request req = {.path = "/cacerts", .accept = "*/*"};
	struct sk_http_response resp;
	unsigned char digest[32];
	char hex[65];
	sk_http *h = NULL;

	if (!tok || !sk_startswith(tok, "K10") || !sep || sep - tok != 3 + 64)
		return sk_err_set(err, EINVAL,
				  "no CA for the server: give --ca-file, or a join token "
				  "K10<sha256 of the CA>::<secret>");
	if (sk_http_new(&hc, &h, err) < 0 || sk_http_do(h, &req, &resp, err) < 0) {
		sk_http_free(h);
		return sk_err_wrap(err, "fetch the server's CA");
	}
	sk_http_free(h);
	if (resp.status != 200) {
		sk_http_response_free(&resp);
		return sk_err_set(err, EPROTO, "fetch the server's CA: HTTP %ld from /cacerts",
				  resp.status);
	}
	gnutls_hash_fast(GNUTLS_DIG_SHA256, resp.body.data, resp.body.len, digest);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (strncasecmp(hex, tok + 3, 64)) {
		sk_http_response_free(&resp);
		return sk_err_set(err, EPERM,
				  "the server's CA does not match the join token (sha256 %s)", hex);
	}
	free_const(cfg->ca_pem);
	cfg->ca_pem = sk_buf_steal(&resp.body);
	sk_http_response_free(&resp);
	return 0;
}

/* Bridge, table and CIDRs are checked now, not when the pod CIDR comes. */
static int check_network_config(const struct agent_config *c, sk_err *err)
{
	struct net_node_config nc = {
		.state_dir = c->state_dir,
		.bridge = c->bridge,
		.pod_cidr = c->pod_cidr ? c->pod_cidr : c->cluster_cidr,
		.cluster_cidr = c->cluster_cidr,
		.service_cidr = c->service_cidr,
		.table = c->nft_table,
		.cluster_domain = c->cluster_domain,
	};
	net_node *n = NULL;

	if (net_node_open(&nc, &n, err) < 0)
		return sk_err_wrap(err, "agent: node network");
	net_node_free(n);
	return 0;
}

int agent_new(const struct agent_config *cfg, agent **out, sk_err *err)
{
	agent *a;

	if (!cfg->server || !*cfg->server)
		return sk_err_set(err, EINVAL, "agent: --server: required");
	a = sk_calloc(1, sizeof(*a));
	a->post_fd = a->inotify_fd = a->stop_fd = -1;
	pthread_mutex_init(&a->post_lock, NULL);
	config_copy(&a->cfg, cfg);
	a->node_name = cfg->node_name ? sk_strdup(cfg->node_name) : default_node_name();
	if (api_check_dns1123_subdomain(a->node_name)) {
		sk_err_set(err, EINVAL, "agent: node name \"%s\": %s", a->node_name,
			   api_check_dns1123_subdomain(a->node_name));
		agent_free(a);
		return -1;
	}
	if (!a->cfg.ca_file && !a->cfg.ca_pem && !a->cfg.insecure &&
	    sk_startswith(a->cfg.server, "https://") && fetch_ca(&a->cfg, err) < 0) {
		agent_free(a);
		return -1;
	}
	if (check_network_config(&a->cfg, err) < 0) {
		agent_free(a);
		return -1;
	}
	a->host_ip = a->cfg.node_ip ? sk_strdup(a->cfg.node_ip)
				    : detect_host_ip(a->cfg.server, a->cfg.bridge);
	if (a->cfg.pod_cidr)
		a->pod_cidr = sk_strdup(a->cfg.pod_cidr);
	if (sk_loop_new(&a->loop, err) < 0 || agent_http_new(&a->cfg, &a->http, err) < 0) {
		agent_free(a);
		return -1;
	}
	a->post_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->post_fd < 0 ||
	    sk_loop_add_fd(a->loop, a->post_fd, EPOLLIN, agent_post_drain, a, err) < 0) {
		if (a->post_fd < 0)
			sk_err_sys(err, errno, "eventfd");
		agent_free(a);
		return -1;
	}
	a->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->stop_fd < 0 || sk_loop_add_fd(a->loop, a->stop_fd, EPOLLIN, on_stop, a, err) < 0) {
		if (a->stop_fd < 0)
			sk_err_sys(err, errno, "eventfd");
		agent_free(a);
		return -1;
	}
	a->fast = agent_pool_new(a, "agent-work", 2, 8);
	a->slow = agent_pool_new(a, "agent-stop", 1, 256);
	a->events = agent_events_new(a);
	*out = a;
	return 0;
}

/* ---- the node network ------------------------------------------------------------- */

static int network_retry(sk_loop *loop SK_UNUSED, void *data)
{
	agent_network_up(data);
	return 0;
}

static int start_dns(agent *a, sk_err *err)
{
	char gw[16];
	struct net_dns_config dc = {
		.listen_addr = gw,
		.port = (uint16_t)a->cfg.dns_port,
		.domain = a->cfg.cluster_domain,
	};

	if (a->cfg.dns_port < 0 || a->dns)
		return 0;
	net_node_gateway(a->net, gw, sizeof(gw));
	return net_dns_new(a->loop, &dc, &a->dns, err);
}

void agent_network_up(agent *a)
{
	struct net_node_config nc = {
		.state_dir = a->cfg.state_dir,
		.bridge = a->cfg.bridge,
		.pod_cidr = a->pod_cidr,
		.cluster_cidr = a->cfg.cluster_cidr,
		.service_cidr = a->cfg.service_cidr,
		.table = a->cfg.nft_table,
		.cluster_domain = a->cfg.cluster_domain,
	};
	sk_err err;

	if (a->net_ready || !a->pod_cidr)
		return;
	if ((!a->net && net_node_open(&nc, &a->net, &err) < 0) || net_node_up(a->net, &err) < 0 ||
	    start_dns(a, &err) < 0) {
		sk_error("agent: node network (pod CIDR %s): %s; retrying", a->pod_cidr, err.msg);
		sk_loop_add_timer(a->loop, NETWORK_RETRY_MS, network_retry, a);
		return;
	}
	sk_info("agent: node network up: pod CIDR %s, bridge %s", a->pod_cidr, a->cfg.bridge);
	a->net_ready = true;
	agent_services_network_ready(a);
	agent_pods_network_ready(a);
	agent_node_status_kick(a);
}

/* ---- running ------------------------------------------------------------------------ */

static int on_signal(sk_loop *loop, int signo SK_UNUSED, void *data SK_UNUSED)
{
	sk_loop_stop(loop);
	return 0;
}

static int on_stop(sk_loop *loop, int fd, uint32_t events SK_UNUSED, void *data SK_UNUSED)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	sk_loop_stop(loop);
	return 0;
}

static int register_node(agent *a, sk_err *err)
{
	int wait_ms = 100;

	while (!atomic_load(&a->stopping)) {
		if (agent_node_register(a, err) == 0)
			return 0;
		/* the server may still be starting, or be away for a while */
		if (err->code == 401 || err->code == 403 || err->code == EPROTO)
			return -1;
		sk_warn("agent: %s; retrying", err->msg);
		nanosleep(&(struct timespec){wait_ms / 1000, (wait_ms % 1000) * 1000000L}, NULL);
		wait_ms = wait_ms * 2 > REGISTER_RETRY_MAX_MS ? REGISTER_RETRY_MAX_MS : wait_ms * 2;
	}
	return sk_err_set(err, ECANCELED, "agent stopped");
}

static void start_watches(agent *a)
{
	_cleanup_free_ char *esc = sk_url_escape(a->node_name);
	_cleanup_free_ char *node_q = sk_asprintf("fieldSelector=metadata.name%%3D%s", esc);
	_cleanup_free_ char *pod_q = sk_asprintf("fieldSelector=spec.nodeName%%3D%s", esc);

	a->node_watch = agent_watch_start(a, "/api/v1/nodes", node_q, agent_node_on_watch, NULL);
	a->svc_watch =
		agent_watch_start(a, "/api/v1/services", NULL, agent_services_on_watch, NULL);
	a->ep_watch =
		agent_watch_start(a, "/api/v1/endpoints", NULL, agent_endpoints_on_watch, NULL);
	a->pod_watch = agent_watch_start(a, "/api/v1/pods", pod_q, agent_pods_on_watch, NULL);
}

int agent_run(agent *a, sk_err *err)
{
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (a->cfg.handle_signals && (sk_loop_add_signal(a->loop, SIGINT, on_signal, a, err) < 0 ||
				      sk_loop_add_signal(a->loop, SIGTERM, on_signal, a, err) < 0))
		return -1;
	if (sk_mkdir_p(a->cfg.data_dir, 0700, err) < 0 || agent_pods_init(a, err) < 0 ||
	    agent_services_init(a, err) < 0 || agent_httpd_start(a, err) < 0)
		return -1;
	if (register_node(a, err) < 0)
		return -1;
	sk_info("agent: node %s registered (InternalIP %s, endpoint port %d)", a->node_name,
		a->host_ip, a->port);
	if (atomic_load(&a->stopping))
		return 0;
	agent_network_up(a);
	start_watches(a);
	agent_node_start_heartbeat(a);
	ret = sk_loop_run(a->loop, err);
	atomic_store(&a->stopping, true);
	return ret;
}

void agent_stop(agent *a)
{
	uint64_t one = 1;

	atomic_store(&a->stopping, true);
	if (a->stop_fd >= 0)
		(void)!write(a->stop_fd, &one, sizeof(one));
}

/* Run what was posted until nothing more comes (completions of the jobs
 * the pools finished while stopping). */
static void drain_posts(agent *a)
{
	while (a->post_fd >= 0) {
		pthread_mutex_lock(&a->post_lock);
		bool empty = a->post_head == NULL;
		pthread_mutex_unlock(&a->post_lock);
		if (empty)
			break;
		agent_post_drain(a->loop, a->post_fd, EPOLLIN, a);
	}
}

void agent_free(agent *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	/* all at once: each takes up to a second to notice */
	agent_watch_cancel(a->pod_watch);
	agent_watch_cancel(a->node_watch);
	agent_watch_cancel(a->svc_watch);
	agent_watch_cancel(a->ep_watch);
	agent_httpd_stop(a);
	agent_watch_stop(a->pod_watch);
	agent_watch_stop(a->node_watch);
	agent_watch_stop(a->svc_watch);
	agent_watch_stop(a->ep_watch);
	agent_pool_free(a->fast);
	agent_pool_free(a->slow);
	a->fast = a->slow = NULL;
	agent_services_stop(a);
	agent_events_free(a->events);
	a->events = NULL;
	drain_posts(a);
	agent_pods_free(a);
	agent_services_free(a);
	net_dns_free(a->dns);
	net_node_free(a->net);
	sk_http_free(a->http);
	json_decref(a->node);
	json_decref(a->node_status_sent);
	if (a->post_fd >= 0)
		close(a->post_fd);
	if (a->stop_fd >= 0)
		close(a->stop_fd);
	sk_loop_free(a->loop);
	pthread_mutex_destroy(&a->post_lock);
	config_free(&a->cfg);
	free(a->node_name);
	free(a->host_ip);
	free(a->pod_cidr);
	free(a);
}
