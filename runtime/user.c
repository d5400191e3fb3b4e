/* The container's user: resolved in the container's own /etc/passwd and
 * /etc/group (never the host's, never through NSS), after pivot_root.
 * containerd's rules: a uid without a group takes the primary group of its
 * passwd entry (0 when there is none); the supplementary groups are that
 * group, the groups listing the user's name in /etc/group, and the pod's
 * supplementalGroups. */
#include "runtime_internal.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>

/* Split a passwd/group line in place into at most n ':'-fields. */
static size_t split_fields(char *line, char **f, size_t n)
{
	size_t k = 0;

	line[strcspn(line, "\n")] = '\0';
	while (k < n) {
		f[k++] = line;
		char *c = strchr(line, ':');
		if (!c)
			break;
		*c = '\0';
		line = c + 1;
	}
	return k;
}

static bool parse_id(const char *s, int64_t *out)
{
	sk_err e;

	return sk_parse_int64(s, 0, 0xfffffffe, out, &e) == 0;
}

/* Find by name (when name) or by uid in /etc/passwd. */
static bool passwd_lookup(const char *name, int64_t uid, struct rt_user *u)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *fld[7];
		int64_t fuid, fgid;
		if (split_fields(line, fld, 7) < 7 || !parse_id(fld[2], &fuid) ||
		    !parse_id(fld[3], &fgid))
			continue;
		if (name ? strcmp(fld[0], name) != 0 : fuid != uid)
			continue;
		u->uid = (uid_t)fuid;
		u->gid = (gid_t)fgid;
		snprintf(u->name, sizeof(u->name), "%s", fld[0]);
		snprintf(u->home, sizeof(u->home), "%s", fld[5]);
		return true;
	}
	return false;
}

static int add_group(struct rt_user *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return 0;
	if (u->ngroups == SK_ARRAY_SIZE(u->groups))
		return -1;
	u->groups[u->ngroups++] = g;
	return 0;
}

static void member_groups(struct rt_user *u)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
	char line[4096];

	if (!f || !u->name[0])
		return;
	while (fgets(line, sizeof(line), f)) {
		char *fld[4];
		int64_t gid;
		if (split_fields(line, fld, 4) < 4 || !parse_id(fld[2], &gid))
			continue;
		for (char *save = NULL, *m = strtok_r(fld[3], ",", &save); m;
		     m = strtok_r(NULL, ",", &save)) {
			if (!strcmp(m, u->name)) {
				(void)add_group(u, (gid_t)gid);
				break;
			}
		}
	}
}

int rt_user_resolve(const struct rt_container_config *c, struct rt_user *u, sk_err *err)
{
	bool found;

	memset(u, 0, sizeof(*u));
	snprintf(u->home, sizeof(u->home), "/");
	if (c->user) {
		int64_t id;
		if (parse_id(c->user, &id)) {
			found = passwd_lookup(NULL, id, u);
			u->uid = (uid_t)id;
		} else if (!(found = passwd_lookup(c->user, 0, u))) {
			return sk_err_set(err, ENOENT, "user \"%s\": no such user in /etc/passwd",
					  c->user);
		}
	} else {
		int64_t uid = c->uid >= 0 ? c->uid : 0;
		found = passwd_lookup(NULL, uid, u);
		u->uid = (uid_t)uid;
	}
	if (!found) {
		u->gid = 0;
		u->name[0] = '\0';
	}
	if (c->gid >= 0)
		u->gid = (gid_t)c->gid;
	/* the primary group is a supplementary one too (runc's and newer
	 * containerd's behaviour), then /etc/group, then the pod's */
	(void)add_group(u, u->gid);
	if (found)
		member_groups(u);
	for (size_t i = 0; i < c->n_supplemental_groups; i++)
		if (add_group(u, c->supplemental_groups[i]) < 0)
			return sk_err_set(err, E2BIG, "too many supplemental groups");
	return 0;
}
