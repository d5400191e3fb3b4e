/* The node's image store: references, content, import, list, remove and
 * resolve. Layout and rules are in runtime.h; the copy and the tarball
 * extraction live in image_unpack.c. */
#include "image_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF_NAME_MAX 255 /* as the distribution reference grammar */
#define REF_TAG_MAX 128
#define IMAGE_ID_LEN 32
#define MOUNTINFO_MAX (16u << 20)

/* ---- references ----------------------------------------------------------
 * The grammar of github.com/distribution/reference, which Kubernetes and
 * the container runtimes use:
 *   reference := name [ ":" tag ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ], taken as a domain only when the first
 *                component has a "." or ":" or is "localhost"
 *   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}                      */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int path_component_error(const char *s, size_t n, const char **why)
{
	size_t i = 0;

	if (n == 0)
		return *why = "empty path component", -1;
	while (i < n) {
		if (!is_lower_alnum(s[i])) {
			if (isupper((unsigned char)s[i]))
				return *why = "repository name must be lowercase", -1;
			if (strchr("._-", s[i]))
				return *why = "a path component must start and end with a letter "
					      "or digit",
				       -1;
			return *why = "invalid character in repository name", -1;
		}
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			break;
		size_t j = i + 1;
		if (s[i] == '_' && j < n && s[j] == '_')
			j++;
		else if (s[i] == '-')
			while (j < n && s[j] == '-')
				j++;
		else if (s[i] != '.' && s[i] != '_') {
			if (isupper((unsigned char)s[i]))
				return *why = "repository name must be lowercase", -1;
			return *why = "invalid character in repository name", -1;
		}
		if (j == n)
			return *why = "a path component must start and end with a letter or digit",
			       -1;
		i = j;
	}
	return 0;
}

static int domain_error(const char *s, size_t n, const char **why)
{
	const char *colon = memchr(s, ':', n);
	size_t host_len = colon ? (size_t)(colon - s) : n;

	if (host_len == 0)
		return *why = "empty registry host", -1;
	for (size_t i = 0; i < host_len; i++) {
		char c = s[i];
		bool label_edge = i == 0 || i + 1 == host_len || s[i - 1] == '.' || s[i + 1] == '.';
		if (isalnum((unsigned char)c))
			continue;
		if (c == '-' && !label_edge)
			continue;
		if (c == '.' && !label_edge)
			continue;
		return *why = "invalid registry host", -1;
	}
	if (colon) {
		size_t plen = n - host_len - 1;
		if (plen == 0 || plen > 5)
			return *why = "invalid registry port", -1;
		for (size_t i = host_len + 1; i < n; i++)
			if (!isdigit((unsigned char)s[i]))
				return *why = "invalid registry port", -1;
	}
	return 0;
}

static int tag_error(const char *t, const char **why)
{
	size_t n = strlen(t);

	if (n == 0)
		return *why = "empty tag", -1;
	if (n > REF_TAG_MAX)
		return *why = "tag longer than 128 characters", -1;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (isalnum((unsigned char)c) || c == '_' || (i > 0 && (c == '.' || c == '-')))
			continue;
		return *why = "a tag is letters, digits, '_', '.' and '-', not starting with '.' "
			      "or '-'",
		       -1;
	}
	return 0;
}

static bool first_is_domain(const char *name, size_t first_len)
{
	return memchr(name, '.', first_len) || memchr(name, ':', first_len) ||
	       (first_len == 9 && !strncmp(name, "localhost", 9));
}

static int name_error(const char *name, const char **why)
{
	const char *slash = strchr(name, '/');
	const char *p = name;

	if (!*name)
		return *why = "empty repository name", -1;
	if (strlen(name) > REF_NAME_MAX)
		return *why = "repository name longer than 255 characters", -1;
	if (slash && first_is_domain(name, (size_t)(slash - name))) {
		if (domain_error(name, (size_t)(slash - name), why) < 0)
			return -1;
		p = slash + 1;
	}
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (path_component_error(p, n, why) < 0)
			return -1;
		if (!end)
			return 0;
		p = end + 1;
	}
}

/* docker.io/library/busybox, docker.io/busybox and library/busybox all
 * name the image everyone calls busybox. */
static char *normalise_name(const char *name)
{
	static const char *const hubs[] = {"docker.io/", "index.docker.io/"};

	for (size_t i = 0; i < SK_ARRAY_SIZE(hubs); i++)
		if (sk_startswith(name, hubs[i]))
			name += strlen(hubs[i]);
	if (sk_startswith(name, "library/") && !strchr(name + 8, '/'))
		name += 8;
	return sk_strdup(name);
}

int rt_image_ref_parse(const char *ref, char **name, char **tag, sk_err *err)
{
	_cleanup_free_ char *copy = NULL;
	const char *why = NULL;
	char *colon, *slash;

	if (!ref || !*ref)
		return sk_err_set(err, EINVAL, "empty image name");
	if (strchr(ref, '@'))
		return sk_err_set(err, EINVAL,
				  "invalid image name \"%s\": digests are not supported (images "
				  "are local rootfs directories: name one by tag)",
				  ref);
	copy = sk_strdup(ref);
	colon = strrchr(copy, ':');
	slash = strrchr(copy, '/');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (tag_error(colon + 1, &why) < 0)
			return sk_err_set(err, EINVAL, "invalid image name \"%s\": %s", ref, why);
	}
	if (name_error(copy, &why) < 0)
		return sk_err_set(err, EINVAL, "invalid image name \"%s\": %s", ref, why);
	*name = normalise_name(copy);
	*tag = sk_strdup(colon && (!slash || colon > slash) ? colon + 1 : "latest");
	return 0;
}

/* A reference as one file name: '/' cannot be in a name component and
 * '+' cannot be in a reference, so this is reversible; the tag is after
 * the last ':'. */
static char *ref_file_name(const char *name, const char *tag)
{
	char *s = sk_asprintf("%s:%s", name, tag);

	for (char *p = s; *p; p++)
		if (*p == '/')
			*p = '+';
	return s;
}

static int ref_file_parse(const char *file, char **name, char **tag)
{
	const char *colon = strrchr(file, ':');

	if (!colon || colon == file || !colon[1])
		return -1;
	*name = sk_strndup(file, (size_t)(colon - file));
	*tag = sk_strdup(colon + 1);
	for (char *p = *name; *p; p++)
		if (*p == '+')
			*p = '/';
	return 0;
}

static bool valid_id(const char *id)
{
	if (strlen(id) != IMAGE_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

static void new_id(char *buf)
{
	unsigned char r[IMAGE_ID_LEN / 2];

	while (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

/* ---- the store on disk ---------------------------------------------------- */

struct store {
	const char *given; /* the path as the caller wrote it, for messages */
	char *dir;	   /* canonical */
	int lock_fd;
};

static void store_close(struct store *s)
{
	free(s->dir);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
}

/* overlayfs takes lowerdir as a ':'- and ','-separated list: a store path
 * with those (or blanks, which mountinfo escapes) could not be mounted. */
static int check_store_path(const char *dir, sk_err *err)
{
	for (const char *p = dir; *p; p++)
		if (strchr(":,\\", *p) || isspace((unsigned char)*p))
			return sk_err_set(err, EINVAL,
					  "image store %s: a path with '%c' cannot be an overlay "
					  "lower directory",
					  dir, *p);
	return 0;
}

/* Open the store; with `create`, make it (0700: images hold set-id
 * binaries that host users must not reach). Returns 1 when it does not
 * exist and !create. */
static int store_open(struct store *s, const char *image_dir, bool create, sk_err *err)
{
	s->given = image_dir;
	s->dir = NULL;
	s->lock_fd = -1;
	if (create) {
		if (sk_mkdir_p(image_dir, 0700, err) < 0)
			return sk_err_wrap(err, "image store");
	}
	s->dir = realpath(image_dir, NULL);
	if (!s->dir) {
		if (errno == ENOENT && !create)
			return 1;
		return sk_err_sys(err, errno, "image store %s", image_dir);
	}
	if (check_store_path(s->dir, err) < 0)
		return -1;
	if (create) {
		_cleanup_free_ char *content = sk_path_join(s->dir, "content");
		_cleanup_free_ char *refs = sk_path_join(s->dir, "refs");
		if (sk_mkdir_p(content, 0700, err) < 0 || sk_mkdir_p(refs, 0700, err) < 0)
			return sk_err_wrap(err, "image store");
	}
	return 0;
}

/* One writer at a time changes refs and removes content; readers
 * (resolve, list) need no lock: a reference changes by rename. */
static int store_lock(struct store *s, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(s->dir, ".lock");

	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	while (flock(s->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return sk_err_sys(err, errno, "lock %s", path);
	return 0;
}

static char *content_path(const struct store *s, const char *id, const char *leaf)
{
	if (leaf)
		return sk_asprintf("%s/content/%s/%s", s->dir, id, leaf);
	return sk_asprintf("%s/content/%s", s->dir, id);
}

/* The content id a reference names: 1 when there is no such reference. */
static int read_ref(const struct store *s, const char *file, char **id, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("%s/refs/%s", s->dir, file);
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return errno == ENOENT ? 1 : sk_err_sys(err, errno, "read %s", path);
	target[n] = '\0';
	if (!sk_startswith(target, "../content/") || !valid_id(target + 11))
		return sk_err_set(err, EINVAL, "%s: not an image reference (-> %s)", path, target);
	*id = sk_strdup(target + 11);
	return 0;
}

static int write_ref(const struct store *s, const char *file, const char *id, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("%s/refs/%s", s->dir, file);
	_cleanup_free_ char *tmp = sk_asprintf("%s/refs/.tmp-%d", s->dir, (int)getpid());
	_cleanup_free_ char *target = sk_asprintf("../content/%s", id);

	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return sk_err_sys(err, errno, "create %s", tmp);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "rename %s to %s", tmp, path);
	}
	return 0;
}

/* ---- metadata ------------------------------------------------------------- */

/* One value per line: backslashes and newlines escaped. */
static void meta_put(sk_buf *b, const char *key, const char *value)
{
	sk_buf_printf(b, "%s=", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			sk_buf_puts(b, "\\\\");
		else if (*p == '\n')
			sk_buf_puts(b, "\\n");
		else
			sk_buf_putc(b, *p);
	}
	sk_buf_putc(b, '\n');
}

static char *meta_unescape(const char *s)
{
	char *out = sk_malloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static void meta_put_strv(sk_buf *b, const char *key, char *const *v)
{
	for (size_t i = 0; v && v[i]; i++)
		meta_put(b, key, v[i]);
}

static int check_config(const struct rt_image_config *c, sk_err *err)
{
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!strchr(c->env[i], '=') || c->env[i][0] == '=')
			return sk_err_set(err, EINVAL, "env \"%s\": want KEY=VALUE", c->env[i]);
	if (c->workdir && c->workdir[0] != '/')
		return sk_err_set(err, EINVAL, "workdir \"%s\": must be an absolute path",
				  c->workdir);
	return 0;
}

static int write_meta(const char *dir, const char *name, const char *tag, const char *source,
		      uint64_t size, const struct rt_image_config *config, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(dir, "meta");
	_cleanup_buf_ sk_buf b;
	char num[32];

	sk_buf_init(&b);
	meta_put(&b, "name", name);
	meta_put(&b, "tag", tag);
	snprintf(num, sizeof(num), "%lld", (long long)(sk_now_ns() / 1000000000));
	meta_put(&b, "created", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
	meta_put(&b, "size", num);
	meta_put(&b, "source", source);
	if (config) {
		meta_put_strv(&b, "entrypoint", config->entrypoint);
		meta_put_strv(&b, "cmd", config->cmd);
		meta_put_strv(&b, "env", config->env);
		if (config->workdir)
			meta_put(&b, "workdir", config->workdir);
	}
	return sk_write_file_atomic(path, b.data, b.len, 0600, err);
}

static void meta_apply(struct rt_image *img, const char *key, char *value)
{
	struct rt_image_config *c = &img->config;
	int64_t v;
	sk_err err;

	if (!strcmp(key, "created") && sk_parse_int64(value, 0, INT64_MAX, &v, &err) == 0)
		img->created = v;
	else if (!strcmp(key, "size") && sk_parse_int64(value, 0, INT64_MAX, &v, &err) == 0)
		img->size = (uint64_t)v;
	else if (!strcmp(key, "source") && !img->source)
		img->source = sk_strdup(value);
	else if (!strcmp(key, "entrypoint"))
		c->entrypoint = sk_strv_push(c->entrypoint, value);
	else if (!strcmp(key, "cmd"))
		c->cmd = sk_strv_push(c->cmd, value);
	else if (!strcmp(key, "env"))
		c->env = sk_strv_push(c->env, value);
	else if (!strcmp(key, "workdir") && !c->workdir)
		c->workdir = sk_strdup(value);
}

/* Fill the metadata from content/<id>/meta; a missing or damaged file
 * leaves it empty rather than hiding the image. */
static void read_meta(const struct store *s, struct rt_image *img)
{
	_cleanup_free_ char *path = content_path(s, img->id, "meta");
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	sk_err err;

	if (sk_read_file(path, 1 << 20, &text, NULL, &err) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		_cleanup_free_ char *value = meta_unescape(eq + 1);
		meta_apply(img, line, value);
	}
}

void rt_image_clear(struct rt_image *img)
{
	free(img->name);
	free(img->tag);
	free(img->id);
	free(img->rootfs);
	free(img->source);
	sk_strv_free(img->config.entrypoint);
	sk_strv_free(img->config.cmd);
	sk_strv_free(img->config.env);
	free(img->config.workdir);
	memset(img, 0, sizeof(*img));
}

void rt_image_list_free(struct rt_image *images, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rt_image_clear(&images[i]);
	free(images);
}

/* ---- in use: an overlay mount with the rootfs as a lower layer ----------- */

struct mount_scan {
	sk_buf overlay_lines; /* the overlay lines of every mount namespace */
};

static bool seen_ino(ino_t *seen, size_t n, ino_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i] == ino)
			return true;
	return false;
}

static void collect_overlay_lines(sk_buf *out, const char *mountinfo)
{
	const char *line = mountinfo;

	while (*line) {
		const char *end = strchrnul(line, '\n');
		const char *sep = strstr(line, " - overlay ");
		if (sep && sep < end) {
			sk_buf_append(out, line, (size_t)(end - line));
			sk_buf_putc(out, '\n');
		}
		line = *end ? end + 1 : end;
	}
}

/* Containers mount their rootfs in mount namespaces of their own, so the
 * mountinfo of one process per namespace is read; processes that exit
 * meanwhile are skipped. */
static void mount_scan_init(struct mount_scan *m)
{
	_cleanup_free_ ino_t *seen = NULL;
	size_t nseen = 0;
	DIR *proc = opendir("/proc");
	struct dirent *de;

	sk_buf_init(&m->overlay_lines);
	sk_buf_puts(&m->overlay_lines, "");
	if (!proc)
		return;
	while ((de = readdir(proc))) {
		struct stat st;
		char path[300];
		_cleanup_free_ char *text = NULL;
		sk_err err;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", de->d_name);
		if (stat(path, &st) < 0 || seen_ino(seen, nseen, st.st_ino))
			continue;
		seen = sk_realloc(seen, (nseen + 1) * sizeof(*seen));
		seen[nseen++] = st.st_ino;
		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		if (sk_read_file(path, MOUNTINFO_MAX, &text, NULL, &err) == 0)
			collect_overlay_lines(&m->overlay_lines, text);
	}
	closedir(proc);
}

/* lowerdir=a:b:c (or lowerdir+=a with the new mount API): a layer is
 * preceded by '=' or ':' and followed by ':', ',', ' ' or the line end. */
static bool mount_scan_uses(const struct mount_scan *m, const char *rootfs)
{
	size_t n = strlen(rootfs);

	for (const char *p = m->overlay_lines.data; (p = strstr(p, rootfs)); p += n) {
		char before = p == m->overlay_lines.data ? '\0' : p[-1];
		char after = p[n];
		if ((before == '=' || before == ':') &&
		    (after == ':' || after == ',' || after == ' ' || after == '\n' || !after))
			return true;
	}
	return false;
}

static void mount_scan_free(struct mount_scan *m)
{
	sk_buf_free(&m->overlay_lines);
}

/* ---- garbage collection --------------------------------------------------- */

static char **referenced_ids(const struct store *s)
{
	_cleanup_free_ char *refs = sk_path_join(s->dir, "refs");
	DIR *d = opendir(refs);
	struct dirent *de;
	char **ids = sk_calloc(1, sizeof(char *));

	if (!d)
		return ids;
	while ((de = readdir(d))) {
		_cleanup_free_ char *id = NULL;
		sk_err err;
		if (de->d_name[0] != '.' && read_ref(s, de->d_name, &id, &err) == 0)
			ids = sk_strv_push(ids, id);
	}
	closedir(d);
	return ids;
}

static bool strv_contains(char **v, const char *s)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* A temporary directory of an import whose process is gone. */
static bool stale_tmp(const char *name)
{
	long pid = strtol(name + 5, NULL, 10);

	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Remove content that no reference names and no mount uses, and the
 * leftovers of crashed imports. Called with the store locked. */
static int store_gc(const struct store *s, sk_err *err)
{
	_cleanup_free_ char *content = sk_path_join(s->dir, "content");
	_cleanup_strv_ char **ids = referenced_ids(s);
	struct mount_scan scan;
	DIR *d = opendir(content);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : sk_err_sys(err, errno, "open %s", content);
	mount_scan_init(&scan);
	while ((de = readdir(d)) && ret == 0) {
		_cleanup_free_ char *path = sk_path_join(content, de->d_name);
		_cleanup_free_ char *rootfs = sk_path_join(path, "rootfs");
		bool remove;

		if (sk_startswith(de->d_name, ".tmp-"))
			remove = stale_tmp(de->d_name);
		else
			remove = valid_id(de->d_name) && !strv_contains(ids, de->d_name) &&
				 !mount_scan_uses(&scan, rootfs);
		if (remove)
			ret = sk_rm_rf(path, err);
	}
	closedir(d);
	mount_scan_free(&scan);
	return ret < 0 ? sk_err_wrap(err, "clean up the image store") : 0;
}

/* ---- import --------------------------------------------------------------- */

static bool has_entry(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* `docker save` and OCI image layouts are tarballs too, but of layers and
 * manifests, not of a root file system: say so instead of importing a
 * tree that cannot run. */
static int check_not_image_archive(int fd, sk_err *err)
{
	bool looks_like_root = has_entry(fd, "bin") || has_entry(fd, "usr") || has_entry(fd, "etc");

	if (looks_like_root)
		return 0;
	if (has_entry(fd, "oci-layout") ||
	    (has_entry(fd, "manifest.json") &&
	     (has_entry(fd, "repositories") || has_entry(fd, "blobs"))))
		return sk_err_set(err, EINVAL,
				  "this is an image archive (docker save or an OCI layout), not a "
				  "root file system: import a container's files instead "
				  "(podman export CTR | skiff image import NAME -)");
	return 0;
}

static int fill_rootfs(const char *source, const char *rootfs, uint64_t *size, sk_err *err)
{
	_cleanup_close_ int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool is_dir = false;
	struct stat st;
	int r;

	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", rootfs);
	if (strcmp(source, "-") != 0) {
		if (stat(source, &st) < 0)
			return sk_err_sys(err, errno, "%s", source);
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			return sk_err_set(err, EINVAL, "%s: neither a directory nor a tarball",
					  source);
		is_dir = S_ISDIR(st.st_mode);
	}
	if (is_dir)
		r = rt_image_copy_tree(source, fd, size, err);
	else
		r = rt_image_extract_tarball(source, fd, rootfs, size, err);
	if (r == 0 && !is_dir)
		r = check_not_image_archive(fd, err);
	if (r < 0)
		return -1;
	/* the content reaches the disk before any reference names it */
	if (syncfs(fd) < 0)
		return sk_err_sys(err, errno, "sync %s", rootfs);
	return 0;
}

/* Fill a temporary directory (outside the lock: copies take time), then
 * under the lock give it an id, point the reference at it and collect
 * what the reference named before if nothing uses it. */
static int import_locked_commit(struct store *s, const char *tmp, const char *name, const char *tag,
				char *id, sk_err *err)
{
	_cleanup_free_ char *file = ref_file_name(name, tag);
	_cleanup_free_ char *dest = NULL;

	if (strlen(file) > NAME_MAX)
		return sk_err_set(err, ENAMETOOLONG, "image name %s:%s is too long", name, tag);
	if (store_lock(s, err) < 0)
		return -1;
	new_id(id);
	dest = content_path(s, id, NULL);
	if (rename(tmp, dest) < 0)
		return sk_err_sys(err, errno, "rename %s to %s", tmp, dest);
	if (write_ref(s, file, id, err) < 0)
		return -1;
	return store_gc(s, err);
}

static int import_into(struct store *s, const char *tmp, const char *name, const char *tag,
		       const char *source, const struct rt_image_config *config,
		       struct rt_image *out, sk_err *err)
{
	_cleanup_free_ char *rootfs = sk_path_join(tmp, "rootfs");
	_cleanup_free_ char *abs_source = NULL;
	char id[IMAGE_ID_LEN + 1];
	uint64_t size = 0;

	if (mkdir(rootfs, 0755) < 0 || chmod(rootfs, 0755) < 0)
		return sk_err_sys(err, errno, "mkdir %s", rootfs);
	if (fill_rootfs(source, rootfs, &size, err) < 0)
		return -1;
	abs_source = strcmp(source, "-") ? realpath(source, NULL) : NULL;
	if (write_meta(tmp, name, tag, abs_source ? abs_source : source, size, config, err) < 0)
		return -1;
	if (import_locked_commit(s, tmp, name, tag, id, err) < 0)
		return -1;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->name = sk_strdup(name);
		out->tag = sk_strdup(tag);
		out->id = sk_strdup(id);
		out->rootfs = content_path(s, id, "rootfs");
		read_meta(s, out);
	}
	return 0;
}

int rt_image_import(const char *image_dir, const char *ref, const char *source,
		    const struct rt_image_config *config, struct rt_image *out, sk_err *err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *tag = NULL;
	_cleanup_free_ char *tmp = NULL;
	char rnd[9];
	struct store s;
	int ret;

	if (rt_image_ref_parse(ref, &name, &tag, err) < 0)
		return -1;
	if (config && check_config(config, err) < 0)
		return sk_err_wrap(err, "import %s:%s", name, tag);
	if (store_open(&s, image_dir, true, err) < 0) {
		store_close(&s);
		return -1;
	}
	sk_random_alnum(rnd, 8);
	tmp = sk_asprintf("%s/content/.tmp-%d-%s", s.dir, (int)getpid(), rnd);
	if (mkdir(tmp, 0700) < 0) {
		ret = sk_err_sys(err, errno, "mkdir %s", tmp);
	} else {
		ret = import_into(&s, tmp, name, tag, source, config, out, err);
		if (ret < 0) {
			sk_err ignored;
			(void)sk_rm_rf(tmp, &ignored);
		}
	}
	store_close(&s);
	if (ret < 0)
		return sk_err_wrap(err, "import %s:%s from %s", name, tag,
				   strcmp(source, "-") ? source : "stdin");
	return 0;
}

/* ---- resolve, list, remove ------------------------------------------------ */

static int not_found(const char *image_dir, const char *name, const char *tag, sk_err *err)
{
	return sk_err_set(err, ENOENT,
			  "image \"%s:%s\" not found in %s (skiff image ls lists them)", name, tag,
			  image_dir);
}

int rt_image_inspect(const char *image_dir, const char *ref, struct rt_image *out, sk_err *err)
{
	_cleanup_free_ char *file = NULL;
	struct rt_image img = {0};
	struct store s;
	struct stat st;
	int r;

	if (rt_image_ref_parse(ref, &img.name, &img.tag, err) < 0)
		return -1;
	r = store_open(&s, image_dir, false, err);
	if (r == 0) {
		file = ref_file_name(img.name, img.tag);
		r = read_ref(&s, file, &img.id, err);
	}
	if (r == 0) {
		img.rootfs = content_path(&s, img.id, "rootfs");
		read_meta(&s, &img);
		if (stat(img.rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			r = sk_err_set(err, ENOENT, "image \"%s:%s\": its rootfs %s is missing",
				       img.name, img.tag, img.rootfs);
	}
	store_close(&s);
	if (r > 0)
		not_found(image_dir, img.name, img.tag, err);
	if (r != 0) {
		rt_image_clear(&img);
		return -1;
	}
	*out = img;
	return 0;
}

int rt_image_resolve(const char *image_dir, const char *ref, char **rootfs, sk_err *err)
{
	struct rt_image img;

	if (rt_image_inspect(image_dir, ref, &img, err) < 0)
		return -1;
	*rootfs = move_ptr(img.rootfs);
	rt_image_clear(&img);
	return 0;
}

static int compare_images(const void *a, const void *b)
{
	const struct rt_image *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->tag, y->tag);
}

int rt_image_list(const char *image_dir, struct rt_image **images, size_t *n, sk_err *err)
{
	_cleanup_free_ char *refs = NULL;
	struct rt_image *v = NULL;
	size_t count = 0;
	struct store s;
	struct dirent *de;
	DIR *d;
	int r = store_open(&s, image_dir, false, err);

	*images = NULL;
	*n = 0;
	if (r != 0) {
		store_close(&s);
		return r < 0 ? -1 : 0;
	}
	refs = sk_path_join(s.dir, "refs");
	d = opendir(refs);
	if (!d) {
		r = errno == ENOENT ? 0 : sk_err_sys(err, errno, "open %s", refs);
		store_close(&s);
		return r;
	}
	while ((de = readdir(d))) {
		struct rt_image img = {0};
		if (de->d_name[0] == '.' || ref_file_parse(de->d_name, &img.name, &img.tag) < 0)
			continue;
		if (read_ref(&s, de->d_name, &img.id, err) != 0) {
			rt_image_clear(&img);
			continue;
		}
		img.rootfs = content_path(&s, img.id, "rootfs");
		read_meta(&s, &img);
		v = sk_realloc(v, (count + 1) * sizeof(*v));
		v[count++] = img;
	}
	closedir(d);
	store_close(&s);
	if (count)
		qsort(v, count, sizeof(*v), compare_images);
	*images = v;
	*n = count;
	return 0;
}

static int remove_locked(struct store *s, const char *name, const char *tag, bool force,
			 sk_err *err)
{
	_cleanup_free_ char *file = ref_file_name(name, tag);
	_cleanup_free_ char *id = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *rootfs = NULL;
	int r;

	if (store_lock(s, err) < 0)
		return -1;
	r = read_ref(s, file, &id, err);
	if (r != 0)
		return r;
	rootfs = content_path(s, id, "rootfs");
	if (!force) {
		struct mount_scan scan;
		bool used;
		mount_scan_init(&scan);
		used = mount_scan_uses(&scan, rootfs);
		mount_scan_free(&scan);
		if (used)
			return sk_err_set(
				err, EBUSY,
				"image \"%s:%s\" is in use by a container (%s is mounted); "
				"stop its pods first, or --force removes the name now and "
				"the content once it is unused",
				name, tag, rootfs);
	}
	path = sk_asprintf("%s/refs/%s", s->dir, file);
	if (unlink(path) < 0)
		return sk_err_sys(err, errno, "unlink %s", path);
	return store_gc(s, err);
}

int rt_image_remove(const char *image_dir, const char *ref, bool force, sk_err *err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *tag = NULL;
	struct store s;
	int r;

	if (rt_image_ref_parse(ref, &name, &tag, err) < 0)
		return -1;
	r = store_open(&s, image_dir, false, err);
	if (r == 0)
		r = remove_locked(&s, name, tag, force, err);
	store_close(&s);
	if (r > 0)
		return not_found(image_dir, name, tag, err);
	return r < 0 ? -1 : 0;
}
