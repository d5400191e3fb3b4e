/* Filling a new image's rootfs: a plain copy of a directory tree, or the
 * extraction of a rootfs tarball with libarchive.
 *
 * The copy works on directory fds with *at() calls and O_NOFOLLOW, so a
 * symlink in the source is copied as a symlink and never followed, and
 * nothing is written outside the destination. It is a plain copy on
 * purpose (no reflink, no hard links to the source): the image must not
 * change when the source does. */
#include "image_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* deeper trees than this are refused rather than recursed into */
#define COPY_MAX_DEPTH 256
#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536

struct hardlink {
	ino_t ino;
	char *rel; /* path of the first copy, relative to the destination root */
};

struct copy_ctx {
	dev_t dev;     /* the source file system: mounts below are not crossed */
	int dest_root; /* destination root fd, for linkat of hard links */
	const char *src_root;
	struct hardlink *links;
	size_t nlinks, cap;
	uint64_t size;
	sk_err *err;
};

static void copy_ctx_free(struct copy_ctx *c)
{
	for (size_t i = 0; i < c->nlinks; i++)
		free(c->links[i].rel);
	free(c->links);
}

/* A file with several links is copied once and linked for the others, as
 * cp -a and tar do, so an image keeps the source's sharing. */
static const char *hardlink_find(struct copy_ctx *c, ino_t ino)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].ino == ino)
			return c->links[i].rel;
	return NULL;
}

static void hardlink_add(struct copy_ctx *c, ino_t ino, const char *rel)
{
	if (c->nlinks == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->links = sk_realloc(c->links, c->cap * sizeof(*c->links));
	}
	c->links[c->nlinks].ino = ino;
	c->links[c->nlinks].rel = sk_strdup(rel);
	c->nlinks++;
}

/* Extended attributes through paths under /proc/self/fd/N, so symlinks and
 * device nodes (which cannot be opened for this) are handled the same way:
 * the l* calls do not follow the last component. */
static char *fd_path(int dirfd, const char *name)
{
	if (!name)
		return sk_asprintf("/proc/self/fd/%d/.", dirfd);
	return sk_asprintf("/proc/self/fd/%d/%s", dirfd, name);
}

static bool xattr_unsupported(int e)
{
	return e == ENOTSUP || e == EOPNOTSUPP;
}

static int copy_xattrs(struct copy_ctx *c, int sdir, int ddir, const char *name, const char *rel)
{
	_cleanup_free_ char *src = fd_path(sdir, name);
	_cleanup_free_ char *dst = fd_path(ddir, name);
	_cleanup_free_ char *list = sk_malloc(XATTR_LIST_MAX_BYTES);
	_cleanup_free_ char *value = sk_malloc(XATTR_VALUE_MAX_BYTES);
	ssize_t n = llistxattr(src, list, XATTR_LIST_MAX_BYTES);

	if (n < 0)
		return xattr_unsupported(errno)
			       ? 0
			       : sk_err_sys(c->err, errno, "list xattrs of %s", rel);
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		ssize_t v = lgetxattr(src, k, value, XATTR_VALUE_MAX_BYTES);
		if (v < 0) {
			if (errno == ENODATA)
				continue;
			return sk_err_sys(c->err, errno, "read xattr %s of %s", k, rel);
		}
		if (lsetxattr(dst, k, value, (size_t)v, 0) == 0)
			continue;
		/* a file system without xattrs, or an LSM label this kernel will
		 * not take, is not a reason to refuse an image */
		if (xattr_unsupported(errno) || sk_startswith(k, "security.selinux"))
			continue;
		return sk_err_sys(c->err, errno, "set xattr %s on %s", k, rel);
	}
	return 0;
}

/* Owner first (chown clears set-id bits and file capabilities), then the
 * mode, xattrs (security.capability among them) and times last. */
static int copy_metadata(struct copy_ctx *c, int sdir, int ddir, const char *name,
			 const struct stat *st, const char *rel)
{
	const char *n = name ? name : "";
	int flags = name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
	struct timespec times[2] = {st->st_atim, st->st_mtim};

	if (fchownat(ddir, n, st->st_uid, st->st_gid, flags) < 0)
		return sk_err_sys(c->err, errno, "chown %s", rel);
	if (!S_ISLNK(st->st_mode)) {
		_cleanup_free_ char *p = fd_path(ddir, name);
		if (chmod(p, st->st_mode & 07777) < 0)
			return sk_err_sys(c->err, errno, "chmod %s", rel);
	}
	if (copy_xattrs(c, sdir, ddir, name, rel) < 0)
		return -1;
	if (utimensat(ddir, name ? name : ".", times, name ? AT_SYMLINK_NOFOLLOW : 0) < 0)
		return sk_err_sys(c->err, errno, "set times of %s", rel);
	return 0;
}

static int copy_data(struct copy_ctx *c, int in, int out, const struct stat *st, const char *rel)
{
	off_t left = st->st_size;

	while (left > 0) {
		ssize_t n = sendfile(out, in, NULL, left > 0x40000000 ? 0x40000000 : (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_err_sys(c->err, errno, "copy %s", rel);
		if (n == 0)
			break; /* the source shrank while we copied: keep what was there */
		left -= n;
	}
	c->size += (uint64_t)st->st_size;
	return 0;
}

static int copy_regular(struct copy_ctx *c, int sdir, int ddir, const char *name,
			const struct stat *st, const char *rel)
{
	_cleanup_close_ int in = -1;
	_cleanup_close_ int out = -1;
	struct stat now;

	if (st->st_nlink > 1) {
		const char *first = hardlink_find(c, st->st_ino);
		if (first) {
			if (linkat(c->dest_root, first, ddir, name, 0) < 0)
				return sk_err_sys(c->err, errno, "link %s to %s", rel, first);
			return 0;
		}
		hardlink_add(c, st->st_ino, rel);
	}
	/* O_NONBLOCK: should the file be swapped for a fifo meanwhile, open
	 * must not hang; the fstat below then refuses it */
	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (in < 0)
		return sk_err_sys(c->err, errno, "open %s/%s", c->src_root, rel);
	if (fstat(in, &now) < 0 || now.st_ino != st->st_ino || !S_ISREG(now.st_mode))
		return sk_err_set(c->err, EAGAIN, "%s/%s changed while it was copied", c->src_root,
				  rel);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return sk_err_sys(c->err, errno, "create %s", rel);
	if (copy_data(c, in, out, st, rel) < 0)
		return -1;
	return copy_metadata(c, sdir, ddir, name, st, rel);
}

static int copy_symlink(struct copy_ctx *c, int sdir, int ddir, const char *name,
			const struct stat *st, const char *rel)
{
	char target[PATH_MAX + 1];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

	if (n < 0)
		return sk_err_sys(c->err, errno, "readlink %s/%s", c->src_root, rel);
	target[n] = '\0';
	if (symlinkat(target, ddir, name) < 0)
		return sk_err_sys(c->err, errno, "symlink %s", rel);
	return copy_metadata(c, sdir, ddir, name, st, rel);
}

static int copy_special(struct copy_ctx *c, int sdir, int ddir, const char *name,
			const struct stat *st, const char *rel)
{
	if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
		return sk_err_sys(c->err, errno, "mknod %s", rel);
	return copy_metadata(c, sdir, ddir, name, st, rel);
}

static int copy_dir_contents(struct copy_ctx *c, int sdir, int ddir, const char *rel, int depth);

static int copy_dir(struct copy_ctx *c, int sdir, int ddir, const char *name, const struct stat *st,
		    const char *rel, int depth)
{
	_cleanup_close_ int s = -1;
	_cleanup_close_ int d = -1;

	/* 0700 while filling it, so a read-only directory can be populated */
	if (mkdirat(ddir, name, 0700) < 0)
		return sk_err_sys(c->err, errno, "mkdir %s", rel);
	d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return sk_err_sys(c->err, errno, "open %s", rel);
	if (st->st_dev == c->dev) {
		s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			return sk_err_sys(c->err, errno, "open %s/%s", c->src_root, rel);
		if (copy_dir_contents(c, s, d, rel, depth + 1) < 0)
			return -1;
	}
	/* metadata last: the contents changed the directory's times */
	return copy_metadata(c, sdir, ddir, name, st, rel);
}

static int copy_entry(struct copy_ctx *c, int sdir, int ddir, const char *name, const char *rel,
		      int depth)
{
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sk_err_sys(c->err, errno, "stat %s/%s", c->src_root, rel);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return copy_dir(c, sdir, ddir, name, &st, rel, depth);
	case S_IFREG:
		return copy_regular(c, sdir, ddir, name, &st, rel);
	case S_IFLNK:
		return copy_symlink(c, sdir, ddir, name, &st, rel);
	default: /* character and block devices, fifos, sockets */
		return copy_special(c, sdir, ddir, name, &st, rel);
	}
}

static int copy_dir_contents(struct copy_ctx *c, int sdir, int ddir, const char *rel, int depth)
{
	int fd = dup(sdir);
	DIR *dir;
	struct dirent *de;
	int ret = 0;

	if (depth > COPY_MAX_DEPTH)
		return sk_err_set(c->err, ELOOP, "%s: more than %d directories deep", rel,
				  COPY_MAX_DEPTH);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sk_err_sys(c->err, e, "read directory %s/%s", c->src_root, rel);
	}
	while (ret == 0) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				ret = sk_err_sys(c->err, errno, "read directory %s/%s", c->src_root,
						 rel);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub =
			*rel ? sk_asprintf("%s/%s", rel, de->d_name) : sk_strdup(de->d_name);
		ret = copy_entry(c, sdir, ddir, de->d_name, sub, depth);
	}
	closedir(dir);
	return ret;
}

int rt_image_copy_tree(const char *source, int dest_fd, uint64_t *size, sk_err *err)
{
	_cleanup_close_ int src = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct copy_ctx c = {.dest_root = dest_fd, .src_root = source, .err = err};
	struct stat st;
	int ret;

	if (src < 0)
		return sk_err_sys(err, errno, "open %s", source);
	if (fstat(src, &st) < 0)
		return sk_err_sys(err, errno, "stat %s", source);
	c.dev = st.st_dev;
	ret = copy_dir_contents(&c, src, dest_fd, "", 0);
	if (ret == 0)
		ret = copy_metadata(&c, src, dest_fd, NULL, &st, "/");
	copy_ctx_free(&c);
	if (ret < 0)
		return -1;
	*size = c.size;
	return 0;
}

/* ---- tarballs ------------------------------------------------------------ */

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

/* Tarballs made with `tar -P` or from "/" carry absolute names; inside an
 * image they mean the image's root, as GNU tar reads them by default. */
static const char *strip_root(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

/* "./", ".", "/" and the like: the image root itself, whose owner, mode and
 * times are applied once every entry is in (writing entries into it
 * changes its times). */
static bool is_root_entry(const char *p)
{
	return strspn(p, "./") == strlen(p) && !strstr(p, "..");
}

struct root_meta {
	bool seen;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct timespec times[2];
};

static void remember_root(struct archive_entry *e, struct root_meta *m)
{
	m->seen = true;
	m->uid = (uid_t)archive_entry_uid(e);
	m->gid = (gid_t)archive_entry_gid(e);
	m->mode = archive_entry_perm(e);
	m->times[0].tv_sec = archive_entry_atime(e);
	m->times[0].tv_nsec = archive_entry_atime_nsec(e);
	m->times[1].tv_sec = archive_entry_mtime(e);
	m->times[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (!archive_entry_atime_is_set(e))
		m->times[0] = m->times[1];
}

static int apply_root(int dest_fd, const struct root_meta *m, sk_err *err)
{
	if (!m->seen)
		return 0;
	if (fchown(dest_fd, m->uid, m->gid) < 0 || fchmod(dest_fd, m->mode & 07777) < 0 ||
	    futimens(dest_fd, m->times) < 0)
		return sk_err_sys(err, errno, "set owner, mode and times of the image root");
	return 0;
}

static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
	return false;
}

/* Our own checks come first so the refusal names the entry plainly;
 * libarchive's SECURE_* flags stay on underneath as a second line. */
static int check_entry(struct archive_entry *e, sk_err *err)
{
	const char *path = archive_entry_pathname(e);
	const char *link = archive_entry_hardlink(e);

	if (!path)
		return sk_err_set(err, EINVAL, "an entry without a name");
	if (has_dotdot(path))
		return sk_err_set(err, EPERM,
				  "entry \"%s\" has a \"..\" component: it would land outside the "
				  "image",
				  path);
	if (link && has_dotdot(link))
		return sk_err_set(err, EPERM,
				  "hard link \"%s\" points to \"%s\", which has a \"..\" component",
				  path, link);
	archive_entry_copy_pathname(e, strip_root(path));
	if (link)
		archive_entry_copy_hardlink(e, strip_root(link));
	return 0;
}

static int copy_entry_data(struct archive *in, struct archive *out, sk_err *err)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return sk_err_set(err, EIO, "%s", archive_error_string(in));
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
			return sk_err_set(err, EIO, "%s", archive_error_string(out));
	}
}

static int extract_entries(struct archive *in, struct archive *out, struct root_meta *root,
			   uint64_t *size, sk_err *err)
{
	struct archive_entry *e;

	for (;;) {
		int r = archive_read_next_header(in, &e);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return sk_err_set(err, EINVAL, "%s", archive_error_string(in));
		if (check_entry(e, err) < 0)
			return -1;
		const char *path = archive_entry_pathname(e);
		if (is_root_entry(path) && archive_entry_filetype(e) == AE_IFDIR) {
			remember_root(e, root);
			continue;
		}
		if (archive_write_header(out, e) < ARCHIVE_WARN)
			return sk_err_set(err, EPERM, "entry \"%s\": %s", path,
					  archive_error_string(out));
		if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
			*size += (uint64_t)archive_entry_size(e);
		if (archive_entry_size(e) > 0 && copy_entry_data(in, out, err) < 0)
			return sk_err_wrap(err, "entry \"%s\"", path);
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			return sk_err_set(err, EIO, "entry \"%s\": %s", path,
					  archive_error_string(out));
	}
}

static int open_tarball(struct archive *a, const char *source, sk_err *err)
{
	int r;

	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_all(a);
	if (!strcmp(source, "-"))
		r = archive_read_open_fd(a, 0, 1 << 16);
	else
		r = archive_read_open_filename(a, source, 1 << 16);
	if (r != ARCHIVE_OK)
		return sk_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : EINVAL, "%s",
				  archive_error_string(a));
	return 0;
}

int rt_image_extract_tarball(const char *source, int dest_fd, const char *dest_path, uint64_t *size,
			     sk_err *err)
{
	_cleanup_(archive_freep) struct archive *in = archive_read_new();
	_cleanup_(archive_write_freep) struct archive *out = archive_write_disk_new();
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct root_meta root = {0};
	int ret;

	if (!in || !out)
		abort(); /* libarchive allocates nothing else that can fail here */
	if (cwd < 0)
		return sk_err_sys(err, errno, "open the working directory");
	if (open_tarball(in, source, err) < 0)
		return -1;
	/* Numeric owners (no name lookup: the host's passwd is not the
	 * image's); no file flags (an immutable file would outlive rm). */
	archive_write_disk_set_options(
		out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
			     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
			     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	/* libarchive writes relative to the working directory; it is changed
	 * for the extraction only and restored before returning. */
	if (fchdir(dest_fd) < 0)
		return sk_err_sys(err, errno, "chdir %s", dest_path);
	*size = 0;
	ret = extract_entries(in, out, &root, size, err);
	/* close applies the deferred directory modes and times */
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0)
		ret = sk_err_set(err, EIO, "%s", archive_error_string(out));
	if (fchdir(cwd) < 0)
		abort(); /* cannot happen with an O_PATH fd to a directory we were in */
	if (ret == 0)
		ret = apply_root(dest_fd, &root, err);
	return ret;
}
