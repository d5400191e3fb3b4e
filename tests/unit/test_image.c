/* Unit tests for runtime/image*.c: reference parsing and normalisation,
 * and the store's import/resolve/list/remove on a small tree in a
 * temporary directory (no root needed). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../runtime/runtime.h"
#include "tap.h"

static void parses_as(const char *ref, const char *want_name, const char *want_tag)
{
	char *name = NULL, *tag = NULL;
	sk_err err = {0};
	int r = rt_image_ref_parse(ref, &name, &tag, &err);

	if (!ok(r == 0, "parse %s", ref)) {
		printf("#   %s\n", err.msg);
		return;
	}
	is_str(name, want_name, "%s: name", ref);
	is_str(tag, want_tag, "%s: tag", ref);
	free(name);
	free(tag);
}

static void refused(const char *ref, const char *why)
{
	char *name = NULL, *tag = NULL;
	sk_err err = {0};

	ok(rt_image_ref_parse(ref, &name, &tag, &err) < 0, "refuse \"%s\"", ref);
	like(err.msg, why, "\"%s\": says why", ref);
	free(name);
	free(tag);
}

static void test_refs(void)
{
	parses_as("busybox", "busybox", "latest");
	parses_as("busybox:latest", "busybox", "latest");
	parses_as("busybox:1.36", "busybox", "1.36");
	parses_as("docker.io/library/busybox:1.36", "busybox", "1.36");
	parses_as("library/busybox", "busybox", "latest");
	parses_as("docker.io/team/app", "team/app", "latest");
	parses_as("registry.example.com:5000/team/app:v2", "registry.example.com:5000/team/app",
		  "v2");
	parses_as("localhost/app", "localhost/app", "latest");
	parses_as("localhost:5000/app:V_2.0-rc1", "localhost:5000/app", "V_2.0-rc1");
	parses_as("a__b/c-d--e.f_g", "a__b/c-d--e.f_g", "latest");

	refused("", "empty image name");
	refused("Busybox", "must be lowercase");
	refused("busybox:", "empty tag");
	refused("busybox:.x", "a tag is letters");
	refused("busybox@sha256:0123", "digests are not supported");
	refused("-busybox", "start and end with a letter or digit");
	refused("busybox-", "start and end with a letter or digit");
	refused("a//b", "empty path component");
	refused("a/b/", "empty path component");
	refused("a b", "invalid character");
	refused("a___b", "start and end with a letter or digit");
	refused("reg:99999999/a", "invalid registry port");
	refused("-reg.example.com/a", "invalid registry host");
	refused("busybox:a/b", "invalid registry port");
}

static void test_store(void)
{
	char top[] = "/tmp/skiff-test-image.XXXXXX";
	_cleanup_free_ char *src = NULL, *store = NULL, *file = NULL, *rootfs = NULL,
			    *rootfs2 = NULL, *copy = NULL;
	struct rt_image *list = NULL;
	struct rt_image img = {0};
	char *entrypoint[] = {"httpd", "-f", NULL};
	char *cmd[] = {"-p", "8888", NULL};
	char *env[] = {"PATH=/bin", "GREETING=two\nlines \\ slash", NULL};
	struct rt_image_config config = {entrypoint, cmd, env, "/www"};
	size_t n = 0;
	sk_err err = {0};

	if (!ok(mkdtemp(top) != NULL, "temporary directory"))
		return;
	src = sk_path_join(top, "src");
	store = sk_path_join(top, "store");
	file = sk_path_join(src, "etc/hostname");
	{
		_cleanup_free_ char *etc = sk_path_join(src, "etc");
		_cleanup_free_ char *link = sk_path_join(src, "hostlink");
		ok(sk_mkdir_p(etc, 0755, &err) == 0, "make a source tree");
		ok(sk_write_file_atomic(file, "box\n", 4, 0640, &err) == 0, "write a file");
		ok(symlink("/etc/hostname", link) == 0, "make an absolute symlink");
	}

	ok(rt_image_resolve(store, "app", &rootfs, &err) < 0, "resolve in an absent store fails");
	{
		_cleanup_free_ char *want = sk_asprintf(
			"image \"app:latest\" not found in %s (skiff image ls lists them)", store);
		is_str(err.msg, want, "error names the image and the store");
	}
	sk_err_clear(&err);
	if (!ok(rt_image_import(store, "app:1", src, &config, &img, &err) == 0,
		"import a directory"))
		printf("#   %s\n", err.msg);
	is_str(img.name, "app", "imported name");
	is_int(img.size, 4, "size counts regular file bytes");
	rt_image_clear(&img);
	ok(rt_image_inspect(store, "app:1", &img, &err) == 0, "inspect it");
	is_int(sk_strv_len(img.config.entrypoint), 2, "entrypoint kept");
	is_str(img.config.entrypoint ? img.config.entrypoint[1] : NULL, "-f", "entrypoint args");
	is_str(img.config.cmd ? img.config.cmd[1] : NULL, "8888", "cmd kept");
	is_str(img.config.env ? img.config.env[1] : NULL, env[1], "env kept, escapes undone");
	is_str(img.config.workdir, "/www", "workdir kept");
	rt_image_clear(&img);
	{
		char *bad_env[] = {"NOEQUALS", NULL};
		struct rt_image_config bad = {.env = bad_env};
		ok(rt_image_import(store, "app:2", src, &bad, NULL, &err) < 0, "bad env refused");
		like(err.msg, "env \"NOEQUALS\": want KEY=VALUE", "and named");
	}
	ok(rt_image_resolve(store, "app:1", &rootfs, &err) == 0, "resolve it");
	copy = rootfs ? sk_path_join(rootfs, "etc/hostname") : sk_strdup("");
	{
		_cleanup_free_ char *text = NULL;
		struct stat st;
		ok(sk_read_file(copy, 0, &text, NULL, &err) == 0 && !strcmp(text, "box\n"),
		   "the file is in the image");
		ok(stat(copy, &st) == 0 && (st.st_mode & 07777) == 0640, "mode kept");
	}
	ok(rt_image_resolve(store, "app", &rootfs2, &err) < 0, "no tag means latest");
	like(err.msg, "\"app:latest\" not found", "error says app:latest");

	ok(rt_image_import(store, "app:1", src, NULL, NULL, &err) == 0, "re-import the same name");
	free(rootfs2);
	rootfs2 = NULL;
	ok(rt_image_resolve(store, "app:1", &rootfs2, &err) == 0 && strcmp(rootfs, rootfs2) != 0,
	   "the name now points at new content");
	ok(!sk_path_exists(rootfs), "the old content is gone");
	ok(rt_image_list(store, &list, &n, &err) == 0 && n == 1, "one image listed");
	rt_image_list_free(list, n);
	ok(rt_image_remove(store, "app:1", false, &err) == 0, "remove it");
	ok(!sk_path_exists(rootfs2), "its content is removed");
	ok(rt_image_remove(store, "app:1", false, &err) < 0 && err.code == ENOENT,
	   "removing it again: not found");
	ok(rt_image_list(store, &list, &n, &err) == 0 && n == 0, "empty list");
	rt_image_list_free(list, n);
	sk_rm_rf(top, &err);
}

int main(void)
{
	test_refs();
	test_store();
	return done_testing();
}
