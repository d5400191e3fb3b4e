/* Capabilities as Kubernetes pods get them: containerd's default set,
 * capabilities.add/drop ("ALL" first, then single names, as containerd
 * orders them), everything for privileged containers. Applied with libcap
 * in the container's setup. */
#include "runtime_internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#define ALL_BIT ((uint64_t)1 << 63)

/* containerd's (and Docker's) default capability set: CapEff 00000000a80425fb */
uint64_t rt_caps_default(void)
{
	static const int caps[] = {
		CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,	     CAP_FOWNER,
		CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,	     CAP_SETUID,
		CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
		CAP_KILL,    CAP_AUDIT_WRITE};
	uint64_t m = 0;

	for (size_t i = 0; i < SK_ARRAY_SIZE(caps); i++)
		m |= RT_CAP_BIT(caps[i]);
	return m;
}

/* Every capability the kernel knows and this process holds: a container
 * cannot get more than the runtime has (a host may withhold some, e.g.
 * CAP_SYS_RESOURCE inside another sandbox). */
uint64_t rt_caps_supported(void)
{
	int n = (int)cap_max_bits();
	uint64_t all, held = 0;
	cap_t cur;

	if (n <= 0 || n > 63)
		n = CAP_LAST_CAP + 1;
	all = ((uint64_t)1 << n) - 1;
	cur = cap_get_proc();
	if (!cur)
		return all;
	for (int c = 0; c < n; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(cur, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			held |= RT_CAP_BIT(c);
	}
	cap_free(cur);
	return all & held;
}

int rt_cap_from_name(const char *name, uint64_t *mask, sk_err *err)
{
	char lower[64] = "cap_";
	const char *p = name;
	cap_value_t v;
	size_t n;

	if (!strcasecmp(name, "ALL")) {
		*mask = RT_CAPS_ALL;
		return 0;
	}
	if (!strncasecmp(p, "CAP_", 4))
		p += 4;
	n = strlen(p);
	if (n == 0 || n + 5 > sizeof(lower))
		return sk_err_set(err, EINVAL, "unknown capability \"%s\"", name);
	for (size_t i = 0; i <= n; i++)
		lower[4 + i] = (char)tolower((unsigned char)p[i]);
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 62 || isdigit((unsigned char)p[0]))
		return sk_err_set(err, EINVAL, "unknown capability \"%s\"", name);
	*mask = RT_CAP_BIT(v);
	return 0;
}

uint64_t rt_caps_effective(const struct rt_container_config *c)
{
	uint64_t all = rt_caps_supported();
	uint64_t caps;

	if (c->privileged)
		return all;
	caps = rt_caps_default();
	if (c->cap_add & ALL_BIT)
		caps = all;
	if (c->cap_drop & ALL_BIT)
		caps = 0;
	caps |= c->cap_add & ~ALL_BIT;
	/* a mask with ALL cannot also name single capabilities to drop */
	if (!(c->cap_drop & ALL_BIT))
		caps &= ~c->cap_drop;
	return caps & all;
}

/* Drop from the bounding set every capability not in keep. Needs
 * CAP_SETPCAP, so it runs before the user changes. */
int rt_caps_bound(uint64_t keep, sk_err *err)
{
	int last = (int)cap_max_bits();

	for (int c = 0; c < last && c < 64; c++) {
		if (keep & RT_CAP_BIT(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return sk_err_sys(err, errno, "drop capability %d from the bounding set",
					  c);
	}
	return 0;
}

/* Permitted and effective = caps, inheritable and ambient empty: after
 * exec, root keeps caps and other users get none, as with containerd. */
int rt_caps_set(uint64_t caps, sk_err *err)
{
	cap_t c = cap_init();
	cap_value_t list[64];
	int n = 0;
	int ret = 0;

	if (!c)
		return sk_err_sys(err, errno, "cap_init");
	for (int i = 0; i < 64; i++)
		if (caps & RT_CAP_BIT(i))
			list[n++] = i;
	if (n && (cap_set_flag(c, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
		  cap_set_flag(c, CAP_EFFECTIVE, n, list, CAP_SET) < 0))
		ret = sk_err_sys(err, errno, "cap_set_flag");
	if (ret == 0 && cap_set_proc(c) < 0)
		ret = sk_err_sys(err, errno, "set capabilities");
	cap_free(c);
	if (ret == 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		ret = sk_err_sys(err, errno, "clear ambient capabilities");
	return ret;
}
