/* File helpers. Writes of state files go through a temporary name, fsync
 * and rename so a crash leaves the old or the new content, never half. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SK_READ_MAX_DEFAULT (64u << 20)

int sk_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sk_read_fd(int fd, size_t max, char **out, size_t *len, sk_err *err)
{
	_cleanup_buf_ sk_buf b;
	char chunk[8192];

	sk_buf_init(&b);
	if (!max)
		max = SK_READ_MAX_DEFAULT;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sk_err_sys(err, errno, "read");
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max)
			return sk_err_set(err, EFBIG, "larger than %zu bytes", max);
		sk_buf_append(&b, chunk, (size_t)n);
	}
	if (len)
		*len = b.len;
	*out = sk_buf_steal(&b);
	return 0;
}

int sk_read_file(const char *path, size_t max, char **out, size_t *len, sk_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	if (sk_read_fd(fd, max, out, len, err) < 0)
		return sk_err_wrap(err, "%s", path);
	return 0;
}

static int fsync_parent(const char *path)
{
	_cleanup_free_ char *copy = sk_strdup(path);
	_cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -1;
	return fsync(dfd);
}

int sk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, sk_err *err)
{
	_cleanup_free_ char *tmp = sk_asprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return sk_err_sys(err, errno, "create %s", tmp);
	if (sk_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "rename %s to %s", tmp, path);
	}
	(void)fsync_parent(path);
	return 0;
}

int sk_write_string(const char *path, const char *s, sk_err *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	if (sk_write_all(fd, s, strlen(s)) < 0)
		return sk_err_sys(err, errno, "write \"%s\" to %s", s, path);
	return 0;
}

int sk_mkdir_p(const char *path, mode_t mode, sk_err *err)
{
	_cleanup_free_ char *p = sk_strdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return sk_err_sys(err, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return sk_err_sys(err, errno, "mkdir %s", p);
	return 0;
}

/* Remove the contents of the directory dfd; stays on device dev and never
 * follows a symlink (unlinkat removes the link itself). */
static int rm_dir_contents(int dfd, dev_t dev, const char *path, sk_err *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dfd);
		return sk_err_sys(err, errno, "opendir %s", path);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev) {
				ret = sk_err_set(err, EBUSY, "%s/%s is a mount point", path,
						 de->d_name);
				break;
			}
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				ret = sk_err_sys(err, errno, "open %s/%s", path, de->d_name);
				break;
			}
			_cleanup_free_ char *subpath = sk_asprintf("%s/%s", path, de->d_name);
			if (rm_dir_contents(sub, dev, subpath, err) < 0) {
				ret = -1;
				break;
			}
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
				ret = sk_err_sys(err, errno, "rmdir %s", subpath);
				break;
			}
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			ret = sk_err_sys(err, errno, "unlink %s/%s", path, de->d_name);
			break;
		}
	}
	closedir(d);
	return ret;
}

int sk_rm_rf(const char *path, sk_err *err)
{
	struct stat st;
	int dfd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : sk_err_sys(err, errno, "stat %s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return sk_err_sys(err, errno, "unlink %s", path);
		return 0;
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	if (rm_dir_contents(dfd, st.st_dev, path, err) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return sk_err_sys(err, errno, "rmdir %s", path);
	return 0;
}

bool sk_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *sk_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (*b == '/')
		b++;
	if (la && a[la - 1] == '/')
		return sk_asprintf("%s%s", a, b);
	return sk_asprintf("%s/%s", a, b);
}
