/* `skiff server`: the steps from an empty data dir to a serving API, the
 * periodic tick (watch deadlines and bookmarks, compaction), and an
 * orderly stop on SIGINT/SIGTERM. */
#include "srv_internal.h"

#include "../scheduler/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* One server per data dir: the store assumes it is the only writer. */
static int lock_data_dir(srv_server *s, int *fd, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->data_dir, "lock");

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0)
		return sk_err_sys(err, errno, "%s is in use by another skiff server (lock %s)",
				  s->data_dir, path);
	return 0;
}

static int parse_node_ports(const char *spec, int *lo, int *hi, sk_err *err)
{
	if (sscanf(spec, "%d-%d", lo, hi) != 2 || *lo < 1 || *hi > 65535 || *lo > *hi)
		return sk_err_set(err, EINVAL, "--node-port-range %s: expected LOW-HIGH", spec);
	return 0;
}

/* Write requests on their way to the store. */
static int writers_pending(void *data)
{
	return atomic_load(&((srv_server *)data)->writers);
}

static int open_store(srv_server *s, sk_err *err)
{
	srv_store_backend *be;
	unsigned char key[32];
	const api_kind *secrets = api_kind_by_resource("", "secrets");
	_cleanup_free_ char *prefix = srv_key_prefix(secrets, NULL);

	if (srv_sqlite_open(s->data_dir, s->cfg.sync_normal ? SRV_SYNC_NORMAL : SRV_SYNC_FULL, &be,
			    err) < 0)
		return -1;
	if (srv_store_open(be, &s->store, err) < 0)
		return -1;
	if (srv_secrets_key(s, key, err) < 0 ||
	    srv_store_encrypt_prefix(s->store, prefix, key, err) < 0)
		return -1;
	memset(key, 0, sizeof(key));
	srv_store_set_batch_hint(s->store, writers_pending, s, 300);
	s->cache = srv_cache_new();
	srv_store_set_sink(s->store, srv_cache_sink, s->cache);
	return srv_cache_load(s->cache, s->store, err);
}

/* Compaction as the apiserver does it: every interval, compact to the
 * revision that was current at the previous run, so at least one interval
 * of history stays for watchers that reconnect. */
static void maybe_compact(srv_server *s, int64_t now)
{
	int64_t interval =
		(int64_t)(s->cfg.compact_interval_s > 0 ? s->cfg.compact_interval_s : 300) *
		1000000000LL;
	sk_err err = {0};

	if (now - s->last_compact_ns < interval)
		return;
	s->last_compact_ns = now;
	if (s->compact_target > srv_store_compact_rev(s->store)) {
		if (srv_store_compact(s->store, s->compact_target, &err) < 0)
			sk_warn("compaction to %lld: %s", (long long)s->compact_target, err.msg);
		else
			sk_debug("compacted to revision %lld", (long long)s->compact_target);
	}
	s->compact_target = srv_store_current_rev(s->store);
}

static void *tick_main(void *arg)
{
	srv_server *s = arg;
	pthread_setname_np(pthread_self(), "srv-tick");
	int64_t bookmark_ns =
		(int64_t)(s->cfg.bookmark_interval_s > 0 ? s->cfg.bookmark_interval_s : 60) *
		1000000000LL;
	int64_t last_bookmark = sk_monotonic_ns(), last_trim = last_bookmark;

	s->last_compact_ns = sk_monotonic_ns();
	s->compact_target = srv_store_current_rev(s->store);
	pthread_mutex_lock(&s->stop_lock);
	while (!atomic_load(&s->stopping)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until);
		if (atomic_load(&s->stopping))
			break;
		pthread_mutex_unlock(&s->stop_lock);
		int64_t now = sk_monotonic_ns();
		bool bookmarks = now - last_bookmark >= bookmark_ns;
		if (bookmarks)
			last_bookmark = now;
		srv_cache_tick(s->cache, bookmarks);
		maybe_compact(s, now);
		/* big requests (a LIST of thousands, a deletecollection) leave
		 * freed memory in glibc's arenas; hand it back now and then */
		if (now - last_trim >= 10 * 1000000000LL) {
			malloc_trim(0);
			last_trim = now;
		}
		pthread_mutex_lock(&s->stop_lock);
	}
	pthread_mutex_unlock(&s->stop_lock);
	return NULL;
}

/* The scheduler and the controllers of nodes and Services. */
static int start_cluster_controllers(srv_server *s, sk_err *err)
{
	ctl_node_lifecycle_config nl = {.grace_s = s->cfg.node_monitor_grace_s};

	if (ctl_node_ipam_start(&s->client, s->cfg.cluster_cidr, 0, &s->nodeipam, err) < 0)
		return sk_err_wrap(err, "--cluster-cidr");
	if (ctl_node_lifecycle_start(&s->client, &nl, &s->nodelc, err) < 0 ||
	    ctl_endpoints_start(&s->client, &s->endpoints, err) < 0)
		return -1;
	if (!s->cfg.disable_scheduler && sched_start(&s->client, &s->sched, err) < 0)
		return -1;
	return 0;
}

static void stop_cluster_controllers(srv_server *s)
{
	sched_stop(s->sched);
	ctl_endpoints_stop(s->endpoints);
	ctl_node_lifecycle_stop(s->nodelc);
	ctl_node_ipam_stop(s->nodeipam);
}

static int start_controllers(srv_server *s, sk_err *err)
{
	srv_local_client_init(s, &s->client);
	if (ctl_gc_start(&s->client, &s->gc, err) < 0)
		return -1;
	if (ctl_namespace_start(&s->client, &s->nsctl, err) < 0)
		return -1;
	return start_cluster_controllers(s, err);
}

static int write_kubeconfigs(srv_server *s, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->data_dir, SRV_ADMIN_KUBECONFIG);

	if (srv_write_kubeconfig(s, path, err) < 0)
		return -1;
	if (s->cfg.write_kubeconfig && srv_write_kubeconfig(s, s->cfg.write_kubeconfig, err) < 0)
		return sk_err_wrap(err, "--write-kubeconfig %s", s->cfg.write_kubeconfig);
	return 0;
}

static int setup(srv_server *s, int *lock_fd, sk_err *err)
{
	int lo, hi;

	if (sk_mkdir_p(s->data_dir, 0700, err) < 0 || lock_data_dir(s, lock_fd, err) < 0)
		return -1;
	if (srv_ipalloc_new(s->cfg.service_cidr, &s->ips, err) < 0 ||
	    parse_node_ports(s->cfg.node_ports, &lo, &hi, err) < 0 ||
	    srv_portalloc_new(lo, hi, &s->ports) < 0)
		return -1;
	if (srv_token_setup(s, err) < 0 || open_store(s, err) < 0 || srv_alloc_rebuild(s, err) < 0)
		return -1;
	/* the certificate names the address, so listen first (port 0 picks
	 * one), then make it, then serve */
	if (srv_http_listen(s, err) < 0)
		return -1;
	if (!s->cfg.insecure_http &&
	    (srv_tls_setup(s, err) < 0 || srv_node_token_setup(s, err) < 0))
		return -1;
	if (srv_http_start(s, err) < 0 || srv_bootstrap(s, err) < 0 ||
	    start_controllers(s, err) < 0 || write_kubeconfigs(s, err) < 0)
		return -1;
	int r = pthread_create(&s->tick_thread, NULL, tick_main, s);
	if (r != 0)
		return sk_err_sys(err, r, "start the tick thread");
	s->tick_started = true;
	if (s->cfg.on_ready) {
		_cleanup_free_ char *url = sk_asprintf(
			"%s://%s:%d", s->cfg.insecure_http ? "http" : "https", s->host, s->port);
		if (s->cfg.on_ready(s->cfg.hook_data, url, s->ca_pem,
				    s->node_token ? s->node_token : s->token, err) < 0)
			return -1;
		s->hook_started = true;
	}
	return 0;
}

static void server_free(srv_server *s)
{
	srv_store_close(s->store);
	srv_cache_free(s->cache);
	srv_ipalloc_free(s->ips);
	srv_portalloc_free(s->ports);
	free(s->data_dir);
	free(s->token);
	free(s->node_token);
	free(s->ca_pem);
	free(s->cert_pem);
	if (s->key_pem)
		memset(s->key_pem, 0, strlen(s->key_pem));
	free(s->key_pem);
	pthread_mutex_destroy(&s->alloc_lock);
	pthread_mutex_destroy(&s->stop_lock);
	pthread_cond_destroy(&s->stop_cond);
	free(s);
}

/* Stop in order: the embedded agent, the tick, the controllers; then no
 * new connections or requests, every watch ends, requests in progress
 * finish (their writes are acknowledged only once on disk anyway). When
 * all is quiet the HTTP threads stop and everything is freed; if a client
 * holds on past the deadline, the process exits with the threads still
 * there, which loses nothing. */
static void shutdown_server(srv_server *s)
{
	int64_t until = sk_monotonic_ns() + 5 * 1000000000LL;

	if (s->hook_started && s->cfg.on_stop)
		s->cfg.on_stop(s->cfg.hook_data);
	atomic_store(&s->stopping, true);
	pthread_mutex_lock(&s->stop_lock);
	pthread_cond_broadcast(&s->stop_cond);
	pthread_mutex_unlock(&s->stop_lock);
	if (s->tick_started)
		pthread_join(s->tick_thread, NULL);
	stop_cluster_controllers(s);
	ctl_namespace_stop(s->nsctl);
	ctl_gc_stop(s->gc);
	srv_http_stop(s);
	if (s->cache)
		srv_cache_end_watches(s->cache);
	while (sk_monotonic_ns() < until &&
	       (atomic_load(&s->inflight) > 0 || (s->cache && srv_cache_watch_count(s->cache) > 0)))
		usleep(10000);
	if (atomic_load(&s->inflight) > 0 || (s->cache && srv_cache_watch_count(s->cache) > 0)) {
		sk_warn("skiff server: requests still open at exit");
		return;
	}
	srv_http_free(s);
	server_free(s);
}

int srv_run(const srv_config *cfg, sk_err *err)
{
	srv_server *s = sk_calloc(1, sizeof(*s));
	sigset_t set;
	int sig, lock_fd = -1, ret;

	s->cfg = *cfg;
	s->data_dir = sk_strdup(cfg->data_dir ? cfg->data_dir : SRV_DEFAULT_DATA_DIR);
	s->cfg.data_dir = s->data_dir;
	if (!s->cfg.listen)
		s->cfg.listen = SRV_DEFAULT_LISTEN;
	if (!s->cfg.service_cidr)
		s->cfg.service_cidr = SRV_DEFAULT_SERVICE_CIDR;
	if (!s->cfg.node_ports)
		s->cfg.node_ports = SRV_DEFAULT_NODE_PORTS;
	s->listen_fd = -1;
	pthread_mutex_init(&s->alloc_lock, NULL);
	pthread_mutex_init(&s->stop_lock, NULL);
	pthread_cond_init(&s->stop_cond, NULL);
	/* every thread started from here on inherits the blocked signals, so
	 * only sigwait below sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* few arenas: less memory held by per-thread heaps */
	mallopt(M_ARENA_MAX, 2);

	ret = setup(s, &lock_fd, err);
	if (ret == 0) {
		fprintf(stderr, "skiff server: listening on %s://%s:%d, data in %s\n",
			s->cfg.insecure_http ? "http" : "https", s->host, s->port, s->data_dir);
		fprintf(stderr, "skiff server: admin kubeconfig %s/%s\n", s->data_dir,
			SRV_ADMIN_KUBECONFIG);
		sigwait(&set, &sig);
		sk_info("skiff server: %s, stopping", strsignal(sig));
	}
	shutdown_server(s);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
