/* volumes: the pod volumes skiff knows, prepared on the host and turned
 * into the runtime's bind mounts (struct rt_mount). emptyDir (on disk below
 * the pod's data directory, or a tmpfs with medium: Memory) and hostPath
 * (with its type checks). Knows nothing of JSON: agent/podspec.c fills the
 * structs. Prefix: vol_. */
#ifndef SKIFF_VOLUMES_H
#define SKIFF_VOLUMES_H

#include "../common/common.h"
#include "../runtime/runtime.h"

enum vol_kind { VOL_EMPTY_DIR, VOL_HOST_PATH };

/* hostPath.type, as Kubernetes names them. */
enum vol_host_path_type {
	VOL_HOST_PATH_UNSET, /* "": no check */
	VOL_HOST_PATH_DIRECTORY_OR_CREATE,
	VOL_HOST_PATH_DIRECTORY,
	VOL_HOST_PATH_FILE_OR_CREATE,
	VOL_HOST_PATH_FILE,
	VOL_HOST_PATH_SOCKET,
	VOL_HOST_PATH_CHAR_DEVICE,
	VOL_HOST_PATH_BLOCK_DEVICE,
};

struct vol_volume {
	char *name;
	enum vol_kind kind;
	bool memory;	    /* emptyDir.medium: Memory */
	int64_t size_limit; /* emptyDir.sizeLimit in bytes; 0: none */
	char *path;	    /* hostPath.path */
	enum vol_host_path_type type;
};

/* "DirectoryOrCreate" -> VOL_HOST_PATH_DIRECTORY_OR_CREATE; "" is UNSET. */
int vol_host_path_type_parse(const char *s, enum vol_host_path_type *out, sk_err *err);

/* Where an emptyDir lives: <data dir>/<pod id>/volumes/<name>. */
char *vol_empty_dir_path(const struct rt_pod_config *pod, const char *name);

/* Make the volume real on the host, before the pod starts: an emptyDir's
 * directory (0777, as the kubelet makes it) and, for medium Memory, its
 * tmpfs (removed by rt_pod_remove with the pod's data); a hostPath's type
 * check, or its creation for DirectoryOrCreate / FileOrCreate. */
int vol_prepare(const struct vol_volume *v, const struct rt_pod_config *pod, sk_err *err);

/* Add the bind mount of a volumeMount of v to container c. sub_path
 * (may be NULL) is resolved by the runtime beneath the volume, so a symlink
 * a container left in a shared volume cannot point the mount elsewhere. */
int vol_add_mount(const struct vol_volume *v, const struct rt_pod_config *pod,
		  struct rt_container_config *c, const char *mount_path, const char *sub_path,
		  bool read_only, enum rt_propagation propagation, sk_err *err);

void vol_volume_clear(struct vol_volume *v);

#endif
