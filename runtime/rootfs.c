/* The container's root filesystem, built in the container's own mount
 * namespace before pivot_root:
 *
 *   - an overlay over the image directory (in this namespace only): the
 *     image is the read-only lower, the upper lives on a tmpfs private to
 *     this mount namespace, so a container writes into RAM charged to its
 *     own memory cgroup, starts clean on every start, and leaves nothing
 *     on disk;
 *   - then /proc, a minimal /dev, a
 *     read-only /sys, volumes, /etc/hosts, /etc/hostname, /etc/resolv.conf,
 *     masked and read-only /proc paths as containerd sets them.
 *
 * Every path inside the container is resolved beneath the root's directory
 * fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), missing
 * directories are created one component at a time beneath it, and mounts
 * go onto /proc/self/fd/N. So a symlink in an image ("/data -> /etc",
 * "x -> ../../../etc") resolves inside the container and can never send a
 * mount or a new file onto the host. */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct mount_attr_compat {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

/* containerd's defaults (pkg/oci populateDefaultUnixSpec) */
static const char *const masked_paths[] = {"/proc/acpi",	  "/proc/asound",
					   "/proc/kcore",	  "/proc/keys",
					   "/proc/latency_stats", "/proc/timer_list",
					   "/proc/timer_stats",	  "/proc/sched_debug",
					   "/sys/firmware",	  "/sys/devices/virtual/powercap",
					   "/proc/scsi",	  NULL};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

#define FDPATH_MAX 32
static const char *fdpath(int fd, char buf[FDPATH_MAX])
{
	snprintf(buf, FDPATH_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

static int open_in_root(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return rt_openat2(rootfd, path, &how);
}

/* Create the missing component `name` in directory parent. */
static int create_component(int parent, const char *name, bool as_file)
{
	if (as_file) {
		int fd = openat(parent, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
				0644);
		if (fd < 0)
			return -1;
		close(fd);
		return 0;
	}
	return mkdirat(parent, name, 0755);
}

int rt_open_beneath(int rootfd, const char *path, enum rt_mkpath mk, sk_err *err)
{
	_cleanup_free_ char *copy = NULL;
	int fd = open_in_root(rootfd, path);

	if (fd >= 0 || errno != ENOENT || mk == RT_NOCREATE) {
		if (fd < 0)
			return sk_err_sys(err, errno, "resolve %s in the container", path);
		return fd;
	}
	/* Walk the prefixes; create the first missing one beneath its parent,
	 * whose fd was itself resolved in the root. */
	copy = sk_strdup(path);
	int parent = open_in_root(rootfd, "/");
	if (parent < 0)
		return sk_err_sys(err, errno, "open the container's root");
	for (char *s = copy; *s;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		char *end = strchr(s, '/');
		bool last = !end || !end[strspn(end, "/")];
		char saved = end ? *end : '\0';
		if (end)
			*end = '\0';
		int next = open_in_root(rootfd, copy);
		if (next < 0 && errno == ENOENT) {
			if (create_component(parent, s, last && mk == RT_MKFILE) < 0 &&
			    errno != EEXIST) {
				int e = errno;
				close(parent);
				return sk_err_sys(err, e, "create %s in the container", copy);
			}
			next = open_in_root(rootfd, copy);
		}
		if (next < 0) {
			int e = errno;
			close(parent);
			/* EEXIST then ENOENT: a dangling symlink; we refuse to follow it */
			return sk_err_sys(err, e, "resolve %s in the container", copy);
		}
		close(parent);
		parent = next;
		if (end)
			*end = saved;
		if (!end)
			break;
		s = end;
	}
	return parent;
}

/* Mount src onto path inside the container (path created as mk says). */
static int mount_beneath(int rootfd, const char *path, enum rt_mkpath mk, const char *src,
			 const char *fstype, unsigned long flags, const char *data, sk_err *err)
{
	char buf[FDPATH_MAX];
	_cleanup_close_ int fd = rt_open_beneath(rootfd, path, mk, err);

	if (fd < 0)
		return -1;
	if (mount(src, fdpath(fd, buf), fstype, flags, data) < 0)
		return sk_err_sys(err, errno, "mount %s on %s", fstype ? fstype : src, path);
	return 0;
}

/* Make the mount at path read-only, keeping its other flags. The path is
 * opened again so the fd names the top mount, not the one beneath. */
static int remount_ro(int rootfd, const char *path, bool recursive, sk_err *err)
{
	char buf[FDPATH_MAX];
	_cleanup_close_ int fd = rt_open_beneath(rootfd, path, RT_NOCREATE, err);
	struct statvfs sv;
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;

	if (fd < 0)
		return -1;
	if (recursive) {
		struct mount_attr_compat attr = {.attr_set = MOUNT_ATTR_RDONLY};
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) == 0)
			return 0;
		if (errno != ENOSYS)
			return sk_err_sys(err, errno, "make %s read-only", path);
	}
	if (fstatvfs(fd, &sv) == 0) {
		if (sv.f_flag & ST_NOSUID)
			flags |= MS_NOSUID;
		if (sv.f_flag & ST_NODEV)
			flags |= MS_NODEV;
		if (sv.f_flag & ST_NOEXEC)
			flags |= MS_NOEXEC;
	}
	if (mount(NULL, fdpath(fd, buf), NULL, flags, NULL) < 0)
		return sk_err_sys(err, errno, "make %s read-only", path);
	return 0;
}

/* ---- the writable layer ------------------------------------------------------ */

/* The writable layer's tmpfs, mounted on the state directory's .scratch in
 * this (private) mount namespace only: no other namespace sees it, and it
 * goes with the container. It must be attached somewhere: before 6.5,
 * overlayfs refuses an upper directory on a detached mount. */
static int scratch_tmpfs(const char *dir, sk_err *err)
{
	int fd;

	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID, "mode=0700") < 0)
		return sk_err_sys(err, errno, "mount the writable layer's tmpfs on %s", dir);
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", dir);
	return fd;
}

/* overlayfs splits lowerdir at ':' and its options at ','. */
static bool plain_path(const char *p)
{
	return !strpbrk(p, ":,\\ \t\n");
}

/* Mount the overlay (the image as lower, a scratch tmpfs as upper) over the
 * image directory; leaves the overlay's root in *rootfd. The lowerdir is
 * the image path as given, so the image store can see it in mountinfo. */
static int mount_overlay(const char *image, const char *scratch_dir, int *rootfd, sk_err *err)
{
	char lower[FDPATH_MAX], scratch[FDPATH_MAX];
	_cleanup_close_ int lowerfd = open(image, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int scratchfd = -1;
	struct stat st;

	if (lowerfd < 0)
		return sk_err_sys(err, errno, "open image root %s", image);
	if (fstat(lowerfd, &st) < 0)
		return sk_err_sys(err, errno, "stat %s", image);
	scratchfd = scratch_tmpfs(scratch_dir, err);
	if (scratchfd < 0)
		return -1;
	if (mkdirat(scratchfd, "upper", 0700) < 0 || mkdirat(scratchfd, "work", 0700) < 0)
		return sk_err_sys(err, errno, "create the overlay's directories");
	/* the container's "/" keeps the image root's owner and mode */
	if (fchownat(scratchfd, "upper", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(scratchfd, "upper", st.st_mode & 07777, 0) < 0)
		return sk_err_sys(err, errno, "set the overlay root's owner");
	_cleanup_free_ char *opts = sk_asprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
						plain_path(image) ? image : fdpath(lowerfd, lower),
						fdpath(scratchfd, scratch), scratch);
	if (mount("overlay", image, "overlay", 0, opts) < 0)
		return sk_err_sys(err, errno, "mount the overlay over %s", image);
	*rootfd = open(image, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return sk_err_sys(err, errno, "open the container's root");
	return 0;
}

/* ---- /dev ----------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned int major, minor;
} dev_nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
		 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

static const struct {
	const char *name, *target;
} dev_links[] = {{"fd", "/proc/self/fd"},	{"stdin", "/proc/self/fd/0"},
		 {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
		 {"ptmx", "pts/ptmx"},		{"core", "/proc/kcore"}};

static int setup_dev_nodes(int devfd, sk_err *err)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(dev_nodes); i++)
		if (mknodat(devfd, dev_nodes[i].name, S_IFCHR | 0666,
			    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
			return sk_err_sys(err, errno, "mknod /dev/%s", dev_nodes[i].name);
	for (size_t i = 0; i < SK_ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
			return sk_err_sys(err, errno, "symlink /dev/%s", dev_links[i].name);
	for (const char *d = "pts\0shm\0mqueue\0"; *d; d += strlen(d) + 1)
		if (mkdirat(devfd, d, 0755) < 0 && errno != EEXIST)
			return sk_err_sys(err, errno, "mkdir /dev/%s", d);
	return 0;
}

static int setup_dev(int rootfd, const struct rt_spawn *s, sk_err *err)
{
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	_cleanup_close_ int devfd = -1;

	if (s->c->privileged) {
		/* privileged: the host's devices, with ptys, shm and mqueue of our own */
		if (mount_beneath(rootfd, "/dev", RT_MKDIR, "/dev", NULL, MS_BIND | MS_REC, NULL,
				  err) < 0)
			return -1;
	} else {
		if (mount_beneath(rootfd, "/dev", RT_MKDIR, "tmpfs", "tmpfs",
				  MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err) < 0)
			return -1;
		devfd = rt_open_beneath(rootfd, "/dev", RT_NOCREATE, err);
		if (devfd < 0)
			return -1;
		if (setup_dev_nodes(devfd, err) < 0)
			return -1;
	}
	if (mount_beneath(rootfd, "/dev/pts", RT_MKDIR, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0)
		return -1;
	if (s->shm_dir) {
		if (mount_beneath(rootfd, "/dev/shm", RT_MKDIR, s->shm_dir, NULL, MS_BIND, NULL,
				  err) < 0)
			return -1;
	} else if (mount_beneath(rootfd, "/dev/shm", RT_MKDIR, "shm", "tmpfs", nse,
				 "mode=1777,size=65536k", err) < 0) {
		return -1;
	}
	return mount_beneath(rootfd, "/dev/mqueue", RT_MKDIR, "mqueue", "mqueue", nse, NULL, err);
}

/* ---- volumes and the pod's files ---------------------------------------------- */

static int propagation_flags(enum rt_propagation p)
{
	switch (p) {
	case RT_PROPAGATION_HOST_TO_CONTAINER:
		return MS_REC | MS_SLAVE;
	case RT_PROPAGATION_BIDIRECTIONAL:
		return MS_REC | MS_SHARED;
	default:
		return MS_REC | MS_PRIVATE;
	}
}

/* The source of a volume mount: the host path, or its subPath resolved
 * beneath it (a container may have left symlinks in a shared volume). */
static int open_source(const struct rt_mount *m, sk_err *err)
{
	_cleanup_close_ int top = open(m->source, O_PATH | O_CLOEXEC);

	if (top < 0)
		return sk_err_sys(err, errno, "mount %s: source %s", m->destination, m->source);
	if (!m->sub_path)
		return move_fd(top);
	int fd = rt_open_beneath(top, m->sub_path, RT_MKDIR, err);
	if (fd < 0)
		return sk_err_wrap(err, "mount %s: subPath %s of %s", m->destination, m->sub_path,
				   m->source);
	return fd;
}

static int bind_volume(int rootfd, const struct rt_mount *m, sk_err *err)
{
	char buf[FDPATH_MAX], sbuf[FDPATH_MAX];
	_cleanup_close_ int src = open_source(m, err);
	struct stat st;

	if (src < 0)
		return -1;
	if (fstat(src, &st) < 0)
		return sk_err_sys(err, errno, "mount %s: source %s", m->destination, m->source);
	_cleanup_close_ int fd = rt_open_beneath(rootfd, m->destination,
						 S_ISDIR(st.st_mode) ? RT_MKDIR : RT_MKFILE, err);
	if (fd < 0)
		return sk_err_wrap(err, "mount %s", m->destination);
	if (mount(fdpath(src, sbuf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
		return sk_err_sys(err, errno, "bind %s on %s", m->source, m->destination);
	close(fd);
	fd = rt_open_beneath(rootfd, m->destination, RT_NOCREATE, err);
	if (fd < 0)
		return -1;
	if (mount(NULL, fdpath(fd, buf), NULL, (unsigned long)propagation_flags(m->propagation),
		  NULL) < 0)
		return sk_err_sys(err, errno, "set propagation of %s", m->destination);
	if (m->read_only && remount_ro(rootfd, m->destination, true, err) < 0)
		return -1;
	return 0;
}

/* /etc/hosts and friends: bound from the pod's state directory (shared by
 * the pod's containers, as the kubelet does), or, for rt_run, written into
 * the container's own writable layer. */
static int write_beneath(int rootfd, const char *path, const char *content, sk_err *err)
{
	char buf[FDPATH_MAX];
	_cleanup_close_ int pfd = rt_open_beneath(rootfd, path, RT_MKFILE, err);
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (pfd < 0)
		return -1;
	/* never open a FIFO or a device an image put there */
	if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode))
		return sk_err_set(err, EINVAL, "%s in the image is not a regular file", path);
	fd = open(fdpath(pfd, buf), O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || sk_write_all(fd, content, strlen(content)) < 0)
		return sk_err_sys(err, errno, "write %s", path);
	return 0;
}

static int bind_etc_file(int rootfd, const struct rt_etc_file *f, sk_err *err)
{
	char buf[FDPATH_MAX], dbuf[FDPATH_MAX];
	_cleanup_close_ int src = -1;
	_cleanup_close_ int dst = -1;

	if (!f->source)
		return write_beneath(rootfd, f->destination, f->content, err);
	src = open(f->source, O_PATH | O_CLOEXEC);
	if (src < 0)
		return sk_err_sys(err, errno, "open %s", f->source);
	dst = rt_open_beneath(rootfd, f->destination, RT_MKFILE, err);
	if (dst < 0)
		return -1;
	if (mount(fdpath(src, buf), fdpath(dst, dbuf), NULL, MS_BIND, NULL) < 0)
		return sk_err_sys(err, errno, "bind %s", f->destination);
	return 0;
}

static int mask_paths(int rootfd, sk_err *err)
{
	char buf[FDPATH_MAX];

	for (const char *const *p = masked_paths; *p; p++) {
		struct stat st;
		int fd = rt_open_beneath(rootfd, *p, RT_NOCREATE, err);
		if (fd < 0) {
			if (err->code == ENOENT)
				continue;
			return -1;
		}
		int r = fstat(fd, &st);
		if (r == 0 && S_ISDIR(st.st_mode))
			r = mount("tmpfs", fdpath(fd, buf), "tmpfs", MS_RDONLY, "size=0");
		else if (r == 0)
			r = mount("/dev/null", fdpath(fd, buf), NULL, MS_BIND, NULL);
		int e = errno;
		close(fd);
		if (r < 0)
			return sk_err_sys(err, e, "mask %s", *p);
	}
	for (const char *const *p = readonly_paths; *p; p++) {
		int fd = rt_open_beneath(rootfd, *p, RT_NOCREATE, err);
		if (fd < 0) {
			if (err->code == ENOENT)
				continue;
			return -1;
		}
		int r = mount(fdpath(fd, buf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL);
		int e = errno;
		close(fd);
		if (r < 0)
			return sk_err_sys(err, e, "bind %s", *p);
		if (remount_ro(rootfd, *p, false, err) < 0)
			return -1;
	}
	return 0;
}

static int setup_mounts(int rootfd, const struct rt_spawn *s, sk_err *err)
{
	const unsigned long nse = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	const struct rt_container_config *c = s->c;

	if (mount_beneath(rootfd, "/proc", RT_MKDIR, "proc", "proc", nse, NULL, err) < 0)
		return -1;
	if (setup_dev(rootfd, s, err) < 0)
		return -1;
	if (mount_beneath(rootfd, "/sys", RT_MKDIR, "sysfs", "sysfs",
			  nse | (c->privileged ? 0 : MS_RDONLY), NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_mounts; i++)
		if (bind_volume(rootfd, &c->mounts[s->mount_order[i]], err) < 0)
			return -1;
	for (size_t i = 0; i < SK_ARRAY_SIZE(s->etc); i++)
		if (s->etc[i].destination && bind_etc_file(rootfd, &s->etc[i], err) < 0)
			return -1;
	if (!c->privileged && mask_paths(rootfd, err) < 0)
		return -1;
	if (c->working_dir) {
		int fd = rt_open_beneath(rootfd, c->working_dir, RT_MKDIR, err);
		if (fd < 0)
			return sk_err_wrap(err, "workingDir");
		close(fd);
	}
	if (c->read_only_rootfs && remount_ro(rootfd, "/", false, err) < 0)
		return -1;
	return 0;
}

/* pivot_root(".", "."): the old root ends up stacked under the new one and
 * is detached at once, so nothing of the host stays reachable. */
static int pivot(int rootfd, sk_err *err)
{
	if (fchdir(rootfd) < 0)
		return sk_err_sys(err, errno, "chdir to the container's root");
	if (rt_pivot_root(".", ".") < 0)
		return sk_err_sys(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sk_err_sys(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return sk_err_sys(err, errno, "chdir /");
	return 0;
}

int rt_rootfs_setup(const struct rt_spawn *s, sk_err *err)
{
	int rootfd = -1;

	/* nothing we mount may propagate back to the host; host mounts may
	 * still propagate in (HostToContainer volumes rely on it) */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return sk_err_sys(err, errno, "make / a slave mount");
	if (mount_overlay(s->c->rootfs, s->scratch_dir, &rootfd, err) < 0)
		return -1;
	if (setup_mounts(rootfd, s, err) < 0) {
		close(rootfd);
		return -1;
	}
	return rootfd;
}

int rt_rootfs_pivot(int rootfd, sk_err *err)
{
	int ret = pivot(rootfd, err);

	close(rootfd);
	return ret;
}
