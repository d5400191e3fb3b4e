/* IPAM for the node's pod CIDR, kept on disk so it survives restarts:
 * <state>/net/ipam/<ip> holds the uid of the pod that owns the address
 * (created with O_EXCL), `last` the last address handed out (the next
 * claim starts after it, so a freed address is not reused at once). Every
 * claim and release holds an flock on `lock`: concurrent pod creations in
 * several processes never get the same address. */
#include "net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

int net_ipam_lock(net_node *node, int *out, sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "ipam");
	_cleanup_free_ char *path = sk_path_join(dir, "lock");
	int fd;

	if (sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return sk_err_sys(err, errno, "lock %s", path);
		}
	}
	*out = fd; /* closing it releases the lock */
	return 0;
}

static char *ip_path(net_node *node, uint32_t ip)
{
	char buf[16];

	net_ip_format(ip, buf, sizeof(buf));
	return sk_asprintf("%s/ipam/%s", node->net_dir, buf);
}

static uint32_t read_last(net_node *node)
{
	_cleanup_free_ char *path = sk_path_join(node->net_dir, "ipam/last");
	_cleanup_free_ char *text = NULL;
	sk_err err;
	uint32_t ip = 0;

	if (sk_read_file(path, 64, &text, NULL, &err) < 0)
		return 0;
	text[strcspn(text, " \n")] = '\0';
	if (net_ip_parse(text, &ip, &err) < 0)
		return 0;
	return ip;
}

static int write_last(net_node *node, uint32_t ip, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(node->net_dir, "ipam/last");
	char buf[20];

	/* a hint only (where the next scan starts), rewritten in place: a
	 * rename over it would make ext4 flush it on every claim */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	net_ip_format(ip, buf, sizeof(buf));
	memset(buf + strlen(buf), ' ', sizeof(buf) - 1 - strlen(buf));
	buf[sizeof(buf) - 1] = '\n';
	if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return sk_err_sys(err, errno, "write %s", path);
	return 0;
}

static int try_claim(net_node *node, uint32_t ip, const char *uid, sk_err *err)
{
	_cleanup_free_ char *path = ip_path(node, ip);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? 0 : sk_err_sys(err, errno, "claim %s", path);
	if (sk_write_all(fd, uid, strlen(uid)) < 0) {
		int e = errno;
		unlink(path);
		return sk_err_sys(err, e, "write %s", path);
	}
	return 1;
}

/* Pods get the addresses between the gateway and the broadcast address. */
int net_ipam_claim(net_node *node, const char *uid, uint32_t *out, sk_err *err)
{
	_cleanup_close_ int lock = -1;
	uint32_t first = node->gateway + 1;
	uint32_t last =
		node->pod_cidr.addr + (uint32_t)((1ull << (32 - node->pod_cidr.prefix)) - 2);
	uint32_t n = last >= first ? last - first + 1 : 0;
	uint32_t start;

	if (net_ipam_lock(node, &lock, err) < 0)
		return -1;
	start = read_last(node);
	if (start < first || start > last)
		start = last; /* so the scan begins at first */
	for (uint32_t i = 1; i <= n; i++) {
		uint32_t ip = first + (start - first + i) % n;
		int ret = try_claim(node, ip, uid, err);
		if (ret < 0)
			return -1;
		if (ret == 1) {
			*out = ip;
			return write_last(node, ip, err);
		}
	}
	return sk_err_set(err, ENOSPC, "no free address left in the pod CIDR (%u addresses in use)",
			  n);
}

/* Release ip if uid owns it (a stale release must not free a reused IP). */
int net_ipam_release(net_node *node, const char *uid, uint32_t ip, sk_err *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *path = ip_path(node, ip);
	_cleanup_free_ char *owner = NULL;
	sk_err ignored;

	if (net_ipam_lock(node, &lock, err) < 0)
		return -1;
	if (sk_read_file(path, 256, &owner, NULL, &ignored) < 0)
		return 0;
	if (strcmp(owner, uid) != 0)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return sk_err_sys(err, errno, "release %s", path);
	return 0;
}
