/* Reading a pod's status from the file its supervisor rewrites (by atomic
 * rename) on every change, without a round trip to the supervisor: the
 * agent reads it whenever inotify reports the rename, so the supervisor's
 * loop is never held up by a watcher. */
#include "runtime_internal.h"

#include <errno.h>
#include <signal.h>

int rt_pod_status_file(const char *state_dir, const char *id, struct rt_pod_status *st, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("%s/%s/status", state_dir, id);
	_cleanup_free_ char *text = NULL;

	if (sk_read_file(path, 1 << 22, &text, NULL, err) < 0)
		return -1;
	if (rt_pod_status_parse(text, st, err) < 0)
		return sk_err_wrap(err, "status of pod %s", id);
	/* a hint only (pids are reused): rt_pod_status asks the supervisor */
	st->supervisor_alive =
		st->supervisor_pid > 0 && (kill(st->supervisor_pid, 0) == 0 || errno == EPERM);
	return 0;
}
