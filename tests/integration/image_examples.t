#!/bin/bash
# rootfs-examples: make rootfs builds busybox and web and imports them;
# a second run changes nothing; the busybox tree has its applets, users and
# mount targets; the web site answers with the hostname and /healthz.
. "$(dirname "$0")/../lib.sh"
need_root
need_skiff
need_cmd file unshare chroot ip
[[ -x /bin/busybox ]] || cannot_run "needs /bin/busybox (busybox-static)"

STORE=$TEST_TMP/store
OUT=$TEST_TMP/rootfs
build() { "$SKIFF_TOP/rootfs-examples/build.sh" --image-dir "$STORE" --out "$OUT" "$@" 2>&1; }
img() { "$SKIFF" image "$@" --image-dir "$STORE"; }

start=$SECONDS
out=$(build)
ok "make rootfs builds and imports" test $? -eq 0
like "$out" "busybox:latest imported" "busybox imported"
like "$out" "web:latest imported" "web imported"
is "$(img ls -q)" "$(printf 'busybox:latest\nweb:latest')" "both are in the store"
ids=$(img ls | awk 'NR > 1 {print $3}')
out=$(build)
like "$out" "busybox:latest is up to date.*web:latest is up to date" "a second run imports nothing"
is "$(img ls | awk 'NR > 1 {print $3}')" "$ids" "the images are unchanged"
diag "two builds took $((SECONDS - start)) s"

R=$(img inspect busybox | sed -n 's/^rootfs: *//p')
like "$(file -L "$R/bin/busybox")" "statically linked" "busybox is static"
for a in sh httpd nc wget nslookup sleep ip true env; do
	p=$(cd "$R" && for d in bin sbin usr/bin usr/sbin; do [[ -L $d/$a ]] && echo "$d/$a"; done | head -1)
	is "$( [[ -n $p ]] && readlink "$R/$p")" /bin/busybox "applet $a links to /bin/busybox"
done
like "$(cat "$R/etc/passwd")" "user:x:1000:1000:" "a non-root user 1000"
like "$(cat "$R/etc/group")" "user:x:1000:" "its group"
is "$(stat -c '%u:%g' "$R/home/user")" 1000:1000 "its home"
is "$(stat -c %a "$R/tmp")" 1777 "/tmp is sticky and world-writable"
ok "mount targets exist" test -f "$R/etc/hosts" -a -f "$R/etc/hostname" -a -f "$R/etc/resolv.conf" \
	-a -d "$R/proc" -a -d "$R/sys" -a -d "$R/dev"
like "$(img inspect busybox)" 'cmd: +\["sh"\]' "busybox's config: cmd sh"
like "$(img inspect web)" 'entrypoint: +\["httpd","-f","-v","-p","8888","-h","/www"\]' \
	"web's config: httpd on 8888"

# The site itself, without the runtime: httpd chrooted in a network and UTS
# namespace of its own, so no port on the host is taken.
W=$(img inspect web | sed -n 's/^rootfs: *//p')
got=$(unshare -n -u sh -c '
	ip link set lo up
	hostname web-example-test
	chroot "$1" /usr/sbin/httpd -f -p 127.0.0.1:8888 -h /www &
	pid=$!
	for i in $(seq 50); do
		out=$(chroot "$1" /usr/bin/wget -qO- http://127.0.0.1:8888/ 2>/dev/null) && break
		sleep 0.1
	done
	echo "$out|$(chroot "$1" /usr/bin/wget -qO- http://127.0.0.1:8888/healthz)"
	kill $pid' sh "$W")
is "$got" "web-example-test|ok" "GET / answers the hostname, /healthz ok"
for ex in busybox web debian; do
	ok "$ex has a Pod manifest" test -s "$SKIFF_TOP/rootfs-examples/$ex/pod.yaml"
done
like "$(cat "$SKIFF_TOP/rootfs-examples/web/pod.yaml")" "app: test-app" \
	"the web pod carries the label test-service selects"
like "$(cat "$SKIFF_TOP/rootfs-examples/web/pod.yaml")" "containerPort: 8888" "and port 8888"

done_testing
