/* What a pod's sandbox gives each container, shared by the supervisor and
 * by rt_run: the prepared spawn (capabilities, seccomp program, volume
 * order), the files /etc/hosts and /etc/resolv.conf, cgroup names. */
#include "runtime_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static size_t path_depth(const char *p)
{
	size_t n = 0;

	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

int rt_spawn_prepare(struct rt_spawn *s, const struct rt_pod_config *pod,
		     const struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *cache_dir = sk_path_join(pod->state_dir, ".cache");

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->cg_fd = -1;
	for (int i = 0; i < 3; i++)
		s->stdio[i] = -1;
	s->caps = rt_caps_effective(c);
	s->scratch_dir = sk_path_join(pod->state_dir, ".scratch");
	if (mkdir(s->scratch_dir, 0700) < 0 && errno != EEXIST &&
	    (sk_mkdir_p(pod->state_dir, 0711, err) < 0 ||
	     (mkdir(s->scratch_dir, 0700) < 0 && errno != EEXIST))) {
		sk_err_sys(err, errno, "mkdir %s", s->scratch_dir);
		free(s->scratch_dir);
		s->scratch_dir = NULL;
		return -1;
	}
	/* privileged containers run unconfined, as with containerd */
	s->seccomp = c->seccomp == RT_SECCOMP_RUNTIME_DEFAULT && !c->privileged;
	if (s->seccomp && rt_seccomp_prepare(s->caps, cache_dir, &s->prog, err) < 0)
		return sk_err_wrap(err, "container \"%s\"", c->name);
	/* parents before children: /data before /data/cache */
	s->mount_order = sk_calloc(c->n_mounts + 1, sizeof(size_t));
	for (size_t i = 0; i < c->n_mounts; i++)
		s->mount_order[i] = i;
	for (size_t i = 1; i < c->n_mounts; i++) {
		for (size_t k = i;
		     k > 0 && path_depth(c->mounts[s->mount_order[k - 1]].destination) >
				      path_depth(c->mounts[s->mount_order[k]].destination);
		     k--) {
			size_t t = s->mount_order[k];
			s->mount_order[k] = s->mount_order[k - 1];
			s->mount_order[k - 1] = t;
		}
	}
	return 0;
}

void rt_spawn_release(struct rt_spawn *s)
{
	free(s->mount_order);
	s->mount_order = NULL;
	free(s->scratch_dir);
	s->scratch_dir = NULL;
}

/* The kubelet's managed /etc/hosts. */
char *rt_hosts_content(const struct rt_pod_config *cfg)
{
	sk_buf b;

	sk_buf_init(&b);
	if (cfg->host_network) {
		_cleanup_free_ char *host = NULL;
		sk_err e;
		if (sk_read_file("/etc/hosts", 1 << 20, &host, NULL, &e) == 0)
			sk_buf_puts(&b, host);
	} else {
		sk_buf_puts(&b, "# Kubernetes-managed hosts file.\n"
				"127.0.0.1\tlocalhost\n"
				"::1\tlocalhost ip6-localhost ip6-loopback\n"
				"fe00::0\tip6-localnet\n"
				"fe00::0\tip6-mcastprefix\n"
				"fe00::1\tip6-allnodes\n"
				"fe00::2\tip6-allrouters\n");
		if (cfg->pod_ip)
			sk_buf_printf(&b, "%s\t%s\n", cfg->pod_ip, cfg->hostname);
	}
	if (cfg->hosts_entries && cfg->hosts_entries[0]) {
		sk_buf_puts(&b, "\n# Entries added by HostAliases.\n");
		for (size_t i = 0; cfg->hosts_entries[i]; i++)
			sk_buf_printf(&b, "%s\n", cfg->hosts_entries[i]);
	}
	return sk_buf_steal(&b);
}

char *rt_resolv_content(const struct rt_pod_config *cfg)
{
	char *text = NULL;
	sk_err e;

	if (cfg->resolv_conf)
		return sk_strdup(cfg->resolv_conf);
	if (sk_read_file("/etc/resolv.conf", 1 << 16, &text, NULL, &e) == 0)
		return text;
	return sk_strdup("");
}

char *rt_pod_cgroup(const struct rt_pod_config *cfg)
{
	return sk_asprintf("%s/%s_%s", cfg->cgroup_root, cfg->namespace, cfg->name);
}

char *rt_container_cgroup(const struct rt_pod_config *cfg, const char *container)
{
	return sk_asprintf("%s/%s_%s/%s", cfg->cgroup_root, cfg->namespace, cfg->name, container);
}
