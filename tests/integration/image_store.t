#!/bin/bash
# skiff image import/ls/inspect/rm: directories and tarballs are copied
# faithfully (modes, owners, links, devices, xattrs, times), names are
# validated, tarballs cannot write outside the image, an image in use by an
# overlay mount is not deleted, and every change is atomic.
. "$(dirname "$0")/../lib.sh"
need_root
need_skiff
need_cmd tar xz gzip setfattr getfattr unshare mount sha256sum

STORE=$TEST_TMP/store
SRC=$TEST_TMP/src
img() { "$SKIFF" image "$@" --image-dir "$STORE"; }
quiet() { "$@" >/dev/null 2>&1; }

# One line per entry, everything an image must keep (directory sizes
# depend on the file system's history, so only regular files show one).
listing() {
	(cd "$1" && find . -xdev | LC_ALL=C sort | while IFS= read -r p; do
		stat -c '%n|%F|%a|%u:%g|%t,%T|%h|%Y|%N' "$p"
		[[ -f $p && ! -L $p ]] && sha256sum <"$p" | cut -c1-16
	done)
}

make_source() {
	mkdir -p "$SRC"/{bin,etc,dev,home/user,proc,ro,tmp}
	cp /bin/busybox "$SRC/bin/busybox"
	chmod 4755 "$SRC/bin/busybox"
	ln -s busybox "$SRC/bin/sh"
	ln -s /bin/busybox "$SRC/bin/ls"
	printf 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$SRC/etc/passwd"
	ln "$SRC/etc/passwd" "$SRC/etc/passwd.hardlink"
	echo secret >"$SRC/etc/shadow"
	chown 0:42 "$SRC/etc/shadow"
	chmod 0640 "$SRC/etc/shadow"
	setfattr -n user.skiff -v hello "$SRC/etc/passwd"
	echo mine >"$SRC/home/user/notes"
	chown -R 1000:1000 "$SRC/home/user"
	chmod 0700 "$SRC/home/user"
	mknod "$SRC/dev/null" c 1 3
	mknod "$SRC/dev/sda" b 8 0
	mkfifo "$SRC/dev/fifo"
	echo inside >"$SRC/ro/file"
	chmod 0555 "$SRC/ro"
	chmod 1777 "$SRC/tmp"
	find "$SRC" -exec touch -h -d '2020-02-02 02:02:02' {} +
	# a mount point below the source: its contents are not the image's
	mount -t tmpfs -o mode=0555 skifftest "$SRC/proc"
	defer "umount -l '$SRC/proc'"
	echo host >"$SRC/proc/hostfile"
}
make_source
src_listing=$(listing "$SRC")

# ---- a directory -------------------------------------------------------------
out=$(img import app "$SRC" 2>&1)
like "$out" '^app:latest [0-9a-f]{12}$' "import a directory prints NAME:TAG and the id"
rootfs=$(img inspect app | sed -n 's/^rootfs: *//p')
like "$rootfs" "^$STORE/content/[0-9a-f]{32}/rootfs\$" "inspect gives the rootfs path"
is "$(listing "$rootfs")" "$src_listing" "modes, owners, links, devices and times are kept"
is "$(stat -c %i "$rootfs/etc/passwd")" "$(stat -c %i "$rootfs/etc/passwd.hardlink")" \
	"a hard link stays a hard link"
is "$(getfattr -n user.skiff --only-values "$rootfs/etc/passwd" 2>/dev/null)" hello "xattrs are copied"
is "$(ls -A "$rootfs/proc")" "" "a mount point below the source is not crossed"
is "$(stat -c %i "$rootfs/bin/busybox")" "$(stat -c %i "$rootfs/bin/busybox")" "busybox copied"
unlike "$(stat -c %i "$rootfs/bin/busybox")" "^$(stat -c %i "$SRC/bin/busybox")\$" \
	"a copy, not a link to the source"
is "$(stat -c %a "$STORE")" 700 "the store is private to root (images hold set-id files)"

# ---- tarballs ----------------------------------------------------------------
tar -C "$SRC" --one-file-system --xattrs -czf "$TEST_TMP/rootfs.tar.gz" .
out=$(img import app:gz "$TEST_TMP/rootfs.tar.gz" 2>&1)
like "$out" '^app:gz ' "import a .tar.gz"
rootfs_gz=$(img inspect app:gz | sed -n 's/^rootfs: *//p')
is "$(listing "$rootfs_gz")" "$src_listing" ".tar.gz: everything kept"
is "$(getfattr -n user.skiff --only-values "$rootfs_gz/etc/passwd" 2>/dev/null)" hello \
	".tar.gz: xattrs kept"
out=$(tar -C "$SRC" --one-file-system -cJf - . | img import registry.example.com:5000/team/app:v2 - 2>&1)
like "$out" '^registry.example.com:5000/team/app:v2 ' "import a .tar.xz from stdin"
rootfs_xz=$(img inspect registry.example.com:5000/team/app:v2 | sed -n 's/^rootfs: *//p')
is "$(listing "$rootfs_xz")" "$src_listing" ".tar.xz: everything kept"
tar -C "$SRC" --one-file-system -cf "$TEST_TMP/abs.tar" -P --transform 's,^\.,/,' ./etc/shadow
img import abs "$TEST_TMP/abs.tar" >/dev/null 2>&1
is "$(cat "$(img inspect abs | sed -n 's/^rootfs: *//p')/etc/shadow" 2>&1)" secret \
	"absolute member names land inside the image"

# ---- ls ----------------------------------------------------------------------
is "$(img ls -q)" "$(printf '%s\n' abs:latest app:gz app:latest registry.example.com:5000/team/app:v2)" \
	"ls -q lists NAME:TAG sorted"
like "$(img ls | head -1)" '^NAME +TAG +ID +CREATED +SIZE$' "ls has a header"
like "$(img ls | grep '^app ' | grep ' gz ')" '^app +gz +[0-9a-f]{12} +[0-9]+ seconds ago +[0-9.]+ MB$' \
	"ls shows id, age and size"

# ---- names ---------------------------------------------------------------------
check_bad_name() {
	local out rc
	out=$("$SKIFF" image import --image-dir "$STORE" -- "$1" "$SRC" 2>&1)
	rc=$?
	if ((rc != 0)) && [[ $out == "skiff: invalid image name \"$1\": $2"* ]]; then
		pass "refuse name \"$1\""
	else
		fail "refuse name \"$1\"" "rc=$rc" "got: $out" "want: invalid image name \"$1\": $2"
	fi
}
check_bad_name Busybox "repository name must be lowercase"
check_bad_name "busybox:" "empty tag"
check_bad_name "busybox@sha256:abcd" "digests are not supported"
check_bad_name "a//b" "empty path component"
check_bad_name "-x" "a path component must start and end with a letter or digit"
check_bad_name "x:-1" "a tag is letters"
is "$(img ls -q | wc -l)" 4 "refused names made no image"
out=$(img import docker.io/library/app:gz2 "$TEST_TMP/rootfs.tar.gz" 2>&1)
like "$out" '^app:gz2 ' "docker.io/library/app is app"
ok "resolves by either spelling" quiet img inspect docker.io/library/app:gz2

# ---- unknown images, bad sources ------------------------------------------------
out=$(img inspect busybox:1.99 2>&1)
is "$out" "skiff: image \"busybox:1.99\" not found in $STORE (skiff image ls lists them)" \
	"an unknown image names the image and the store"
out=$(img rm nothere 2>&1)
is "$out" "skiff: image \"nothere:latest\" not found in $STORE (skiff image ls lists them)" \
	"rm of an unknown image: the same error"
out=$(img import junk /dev/null 2>&1)
like "$out" "/dev/null: neither a directory nor a tarball" "a device is not a source"
head -c 4096 /dev/urandom >"$TEST_TMP/junk.tar"
out=$(img import junk "$TEST_TMP/junk.tar" 2>&1)
like "$out" "^skiff: import junk:latest from .*junk.tar: .*(Unrecognized|format)" \
	"a file that is not a tarball is refused"
mkdir -p "$TEST_TMP/saved/blobs/sha256"
echo '{"schemaVersion":2}' >"$TEST_TMP/saved/oci-layout"
echo '[]' >"$TEST_TMP/saved/manifest.json"
tar -C "$TEST_TMP/saved" -cf "$TEST_TMP/saved.tar" .
out=$(img import junk "$TEST_TMP/saved.tar" 2>&1)
like "$out" "an image archive \(docker save or an OCI layout\), not a root file system" \
	"an image archive (docker save, OCI layout) is refused with what to do instead"
out=$(img import junk "$TEST_TMP/nothere" 2>&1)
like "$out" "nothere: No such file or directory" "a missing source is named"

# ---- tarballs that try to leave the image ---------------------------------------
leftovers() { find "$STORE/content" -maxdepth 1 -name '.tmp-*' | wc -l; }
mkdir -p "$TEST_TMP/evil/a"
echo pwned >"$TEST_TMP/evil/escaped"
(cd "$TEST_TMP/evil/a" && tar -cPf "$TEST_TMP/dotdot.tar" ../escaped 2>/dev/null)
rm -f "$TEST_TMP/evil/escaped"
before=$(img ls -q)
out=$(cd "$STORE" && "$SKIFF" image import --image-dir "$STORE" evil "$TEST_TMP/dotdot.tar" 2>&1)
rc=$?
ok "a tarball with ../ entries is refused" test $rc -ne 0
like "$out" 'entry "\.\./escaped" has a "\.\." component' "the refusal names the entry"
ok "nothing was written outside" test ! -e "$STORE/content/escaped" -a ! -e "$STORE/escaped"
is "$(img ls -q)" "$before" "no image was added"
is "$(leftovers)" 0 "no temporary directory is left"

mkdir -p "$TEST_TMP/sl1" "$TEST_TMP/sl2/link" "$TEST_TMP/outside"
ln -s "$TEST_TMP/outside" "$TEST_TMP/sl1/link"
echo pwned >"$TEST_TMP/sl2/link/x"
tar -cf "$TEST_TMP/symlink.tar" -C "$TEST_TMP/sl1" link
tar -rf "$TEST_TMP/symlink.tar" -C "$TEST_TMP/sl2" link/x
out=$(img import evil "$TEST_TMP/symlink.tar" 2>&1)
like "$out" 'entry "link/x".*symlink' "a tarball writing through its own symlink is refused"
is "$(ls -A "$TEST_TMP/outside")" "" "the symlink's target is untouched"
is "$(leftovers)" 0 "no temporary directory is left"

# ---- replace, remove, in use ---------------------------------------------------
old=$rootfs
img import app "$TEST_TMP/rootfs.tar.gz" >/dev/null
new=$(img inspect app | sed -n 's/^rootfs: *//p')
ok "re-import points the name at new content" test "$new" != "$old" -a -d "$new"
ok "the old content is collected" test ! -e "$old"

mkdir -p "$TEST_TMP/ov/upper" "$TEST_TMP/ov/work" "$TEST_TMP/ov/merged"
unshare -m --propagation private sh -c "mount -t overlay ov -o lowerdir=$new,upperdir=$TEST_TMP/ov/upper,workdir=$TEST_TMP/ov/work $TEST_TMP/ov/merged && echo mounted && exec sleep 60" >"$TEST_TMP/ov/log" 2>&1 &
holder=$!
defer "kill $holder"
wait_for 10 grep -q mounted "$TEST_TMP/ov/log"
out=$(img rm app 2>&1)
like "$out" "image \"app:latest\" is in use by a container" "rm refuses an image a mount uses"
ok "it is still there" quiet img inspect app
out=$(img rm -f app 2>&1)
is "$out" "removed app" "rm -f removes the name"
ok "... but keeps the content while it is mounted" test -d "$new"
kill "$holder"
wait "$holder" 2>/dev/null
img rm abs >/dev/null
ok "the content goes at the next change once unused" test ! -e "$new"

stale=$STORE/content/.tmp-999999999-crashed
mkdir -p "$stale/rootfs"
img import app "$SRC" >/dev/null
ok "a crashed import's leftovers are collected" test ! -e "$stale"
for r in app:latest app:gz app:gz2 registry.example.com:5000/team/app:v2; do
	img rm "$r" >/dev/null
done
is "$(img ls -q)" "" "all images removed"
is "$(ls -A "$STORE/content")" "" "no content is left"

done_testing
