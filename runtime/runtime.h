/* runtime: pod sandboxes, containers, cgroups, capabilities, seccomp and
 * the node's image store. Takes plain C structs, knows nothing of JSON or
 * HTTP. Prefix: rt_. */
#ifndef SKIFF_RUNTIME_H
#define SKIFF_RUNTIME_H

#include "../common/common.h"

/* ---- images (runtime/image.c) -------------------------------------------
 * An image is an unpacked rootfs directory in the node's image store:
 *
 *   <image_dir>/refs/<name>:<tag>     symlink to ../content/<id> ('/' in the
 *                                     name is stored as '+')
 *   <image_dir>/content/<id>/rootfs   the unpacked root file system
 *   <image_dir>/content/<id>/meta     name=, tag=, created=, size=, source=
 *
 * Image references are written as in Kubernetes (`busybox`,
 * `busybox:1.36`, `registry.example.com:5000/team/app:v2`); no tag means
 * `latest`, and `docker.io/library/busybox` is the same image as `busybox`.
 * Digests (`@sha256:...`) are refused: there is no registry behind the
 * store. Content is never changed once imported: a re-import under the same
 * reference points the reference at new content, and content is deleted
 * only when no reference names it and no overlay mount uses it. */
#define RT_IMAGE_DIR_DEFAULT "/var/lib/skiff/images"

/* What a container runs when its Pod does not say, as an OCI image config's
 * Entrypoint, Cmd, Env and WorkingDir: a Pod's `command` replaces the
 * entrypoint and its `args` replace the cmd, as in Kubernetes. Any of them
 * may be NULL (vectors are NULL-terminated). */
struct rt_image_config {
	char **entrypoint;
	char **cmd;
	char **env; /* "KEY=value" */
	char *workdir;
};

struct rt_image {
	char *name;	 /* normalised repository name ("busybox", "reg:5000/a/b") */
	char *tag;	 /* "latest" when the reference had none */
	char *id;	 /* content id, 32 hex digits */
	char *rootfs;	 /* canonical path of the unpacked rootfs */
	int64_t created; /* unix seconds of the import */
	uint64_t size;	 /* bytes of regular files, each inode once */
	char *source;	 /* the directory or tarball it was imported from */
	struct rt_image_config config;
};

/* Parse and normalise a reference: *name and *tag are allocated. Errors
 * name the reference and the rule it breaks. */
int rt_image_ref_parse(const char *ref, char **name, char **tag, sk_err *err);

/* Import a rootfs into the store under ref: `source` is a directory (copied,
 * keeping modes, owners, symlinks, hard links, devices, xattrs and times;
 * mount points below it are not crossed) or a .tar/.tar.gz/.tar.xz/... of a
 * rootfs ("-" reads the tarball from stdin; no entry may land outside the
 * image). Atomic: the reference appears only when the copy is complete.
 * `config` (may be NULL) is stored with the image. When `out` is not NULL
 * it receives the imported image (rt_image_clear() it). */
int rt_image_import(const char *image_dir, const char *ref, const char *source,
		    const struct rt_image_config *config, struct rt_image *out, sk_err *err);

/* The canonical, symlink-free path of the image's rootfs in *rootfs
 * (allocated), or an error naming the image and the store. Use exactly this
 * string as the overlay lowerdir: in-use checks look for it in mountinfo. */
int rt_image_resolve(const char *image_dir, const char *ref, char **rootfs, sk_err *err);

/* The image a reference names, with its metadata (rt_image_clear() it). */
int rt_image_inspect(const char *image_dir, const char *ref, struct rt_image *out, sk_err *err);

/* All images, sorted by name and tag; an absent store is an empty list. */
int rt_image_list(const char *image_dir, struct rt_image **images, size_t *n, sk_err *err);
void rt_image_list_free(struct rt_image *images, size_t n);
void rt_image_clear(struct rt_image *image);

/* Remove a reference. An image whose rootfs is mounted by a container is
 * refused unless `force`; with force the reference goes at once and the
 * content stays until its last user is gone (collected by a later import
 * or rm). */
int rt_image_remove(const char *image_dir, const char *ref, bool force, sk_err *err);
/* ---- end of images ------------------------------------------------------ */

#endif
