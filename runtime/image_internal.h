/* runtime/image*.c internals: filling a new image's rootfs. */
#ifndef SKIFF_RUNTIME_IMAGE_INTERNAL_H
#define SKIFF_RUNTIME_IMAGE_INTERNAL_H

#include "runtime.h"

/* Copy the tree at `source` into the empty directory dest_fd (named in
 * errors by their path inside the image). Never follows a symlink, stays on the source's
 * file system (a mount point below it is copied as an empty directory), and
 * keeps hard links within the tree. *size gets the bytes of regular files. */
int rt_image_copy_tree(const char *source, int dest_fd, uint64_t *size, sk_err *err);

/* Extract the rootfs tarball `source` ("-" = stdin) into the empty
 * directory dest_fd. Refuses the whole tarball at the first entry that
 * would land outside it ("..", or a path through a symlink). */
int rt_image_extract_tarball(const char *source, int dest_fd, const char *dest_path, uint64_t *size,
			     sk_err *err);

#endif
