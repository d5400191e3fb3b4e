#!/bin/sh
# Build the busybox example rootfs in OUT (replaced): Debian's static
# busybox with every applet as a symlink, a root and a non-root user, and
# the empty files and directories a container runtime mounts over.
#   rootfs-examples/busybox/build.sh OUT
set -eu
out=${1:?usage: $0 OUT}
bb=${BUSYBOX:-/bin/busybox}

if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
	echo "$bb is not a static busybox: install busybox-static (make deps)" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$out"
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin usr/local/bin etc root home/user tmp var/tmp \
	var/log run proc sys dev
chmod 0700 root
chmod 1777 tmp var/tmp
install -m 0755 "$bb" bin/busybox
# every applet at its usual place: sh, httpd, nc, wget, nslookup, sleep, ...
# as root in one process (busybox --install inside the tree: hundreds of
# `ln` execs are slow where exec is slow, as in the cgroup v2 guest)
if [ "$(id -u)" = 0 ] && chroot . /bin/busybox --install -s 2>/dev/null; then
	:
else
	"$bb" --list-full | while read -r applet; do
		[ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
	done
fi

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP
printf 'root:*:19000:0:99999:7:::\nuser:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >etc/shadow
chmod 0640 etc/shadow
chown -R 1000:1000 home/user
# mount targets for the runtime; the runtime fills them per pod
: >etc/hosts
: >etc/hostname
: >etc/resolv.conf
