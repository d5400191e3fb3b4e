/* emptyDir and hostPath, as the kubelet prepares them. */
#include "volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const type_names[] = {
	"",	  "DirectoryOrCreate", "Directory",   "FileOrCreate", "File",
	"Socket", "CharDevice",	       "BlockDevice",
};

int vol_host_path_type_parse(const char *s, enum vol_host_path_type *out, sk_err *err)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(type_names); i++) {
		if (!strcmp(s, type_names[i])) {
			*out = (enum vol_host_path_type)i;
			return 0;
		}
	}
	return sk_err_set(err, EINVAL,
			  "unsupported value \"%s\": supported values: \"\", \"BlockDevice\", "
			  "\"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", "
			  "\"FileOrCreate\", \"Socket\"",
			  s);
}

char *vol_empty_dir_path(const struct rt_pod_config *pod, const char *name)
{
	return sk_asprintf("%s/%s_%s/volumes/%s",
			   pod->data_dir ? pod->data_dir : RT_DEFAULT_DATA_DIR,
			   pod->namespace ? pod->namespace : "default", pod->name, name);
}

static int prepare_empty_dir(const struct vol_volume *v, const struct rt_pod_config *pod,
			     sk_err *err)
{
	_cleanup_free_ char *path = vol_empty_dir_path(pod, v->name);
	_cleanup_free_ char *opts = NULL;

	if (sk_mkdir_p(path, 0755, err) < 0)
		return sk_err_wrap(err, "emptyDir %s", v->name);
	if (v->memory) {
		opts = v->size_limit ? sk_asprintf("mode=0777,size=%lld", (long long)v->size_limit)
				     : sk_strdup("mode=0777");
		if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return sk_err_sys(err, errno, "emptyDir %s: mount tmpfs on %s", v->name,
					  path);
		return 0;
	}
	/* the kubelet's emptyDir is world-writable: containers run as any user */
	if (chmod(path, 0777) < 0)
		return sk_err_sys(err, errno, "emptyDir %s: chmod %s", v->name, path);
	return 0;
}

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "directory";
	if (S_ISREG(m))
		return "file";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	return "special file";
}

/* The kubelet's hostPath type checker. */
static int check_host_path(const struct vol_volume *v, sk_err *err)
{
	static const mode_t want[] = {0,       S_IFDIR,	 S_IFDIR, S_IFREG,
				      S_IFREG, S_IFSOCK, S_IFCHR, S_IFBLK};
	struct stat st;

	if (stat(v->path, &st) < 0) {
		if (errno != ENOENT)
			return sk_err_sys(err, errno, "hostPath %s", v->path);
		if (v->type == VOL_HOST_PATH_DIRECTORY_OR_CREATE) {
			if (sk_mkdir_p(v->path, 0755, err) < 0)
				return sk_err_wrap(err, "hostPath");
			return 0;
		}
		if (v->type == VOL_HOST_PATH_FILE_OR_CREATE) {
			int fd = open(v->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
				      0644);
			if (fd < 0 && errno != EEXIST)
				return sk_err_sys(err, errno, "hostPath: create file %s", v->path);
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (v->type == VOL_HOST_PATH_UNSET)
			return 0; /* no check: the mount will say what is missing */
		return sk_err_set(err, ENOENT, "hostPath type check failed: %s does not exist",
				  v->path);
	}
	if (v->type == VOL_HOST_PATH_UNSET || (st.st_mode & S_IFMT) == want[v->type])
		return 0;
	return sk_err_set(err, EINVAL, "hostPath type check failed: %s is a %s, not a %s", v->path,
			  kind_of(st.st_mode), kind_of(want[v->type]));
}

int vol_prepare(const struct vol_volume *v, const struct rt_pod_config *pod, sk_err *err)
{
	if (v->kind == VOL_EMPTY_DIR)
		return prepare_empty_dir(v, pod, err);
	if (!v->path || v->path[0] != '/')
		return sk_err_set(err, EINVAL, "hostPath %s: the path must be absolute",
				  v->path ? v->path : "");
	if (check_host_path(v, err) < 0)
		return sk_err_wrap(err, "volume \"%s\"", v->name);
	return 0;
}

int vol_add_mount(const struct vol_volume *v, const struct rt_pod_config *pod,
		  struct rt_container_config *c, const char *mount_path, const char *sub_path,
		  bool read_only, enum rt_propagation propagation, sk_err *err)
{
	struct rt_mount *m;

	if (!mount_path || mount_path[0] != '/')
		return sk_err_set(err, EINVAL, "mountPath \"%s\" must be absolute",
				  mount_path ? mount_path : "");
	if (sub_path && (sub_path[0] == '/' || strstr(sub_path, "..")))
		return sk_err_set(err, EINVAL,
				  "subPath \"%s\" must be a relative path without \"..\"",
				  sub_path);
	m = rt_container_add_mount(c);
	m->source =
		v->kind == VOL_EMPTY_DIR ? vol_empty_dir_path(pod, v->name) : sk_strdup(v->path);
	m->destination = sk_strdup(mount_path);
	m->sub_path = sub_path && *sub_path ? sk_strdup(sub_path) : NULL;
	m->read_only = read_only;
	m->propagation = propagation;
	return 0;
}

void vol_volume_clear(struct vol_volume *v)
{
	free(v->name);
	free(v->path);
	memset(v, 0, sizeof(*v));
}
