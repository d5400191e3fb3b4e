#!/bin/sh
# make rootfs: build the example images and import them into the image
# store. Idempotent and quick: a tree is rebuilt (seconds), and imported
# only when it or its config differs from what the store holds.
#   rootfs-examples/build.sh [--image-dir DIR] [--out DIR] [NAME...]
# (default: busybox web; trees go to --out, default build/rootfs)
# debian (debootstrap, minutes) is built only when named.
set -eu
cd "$(dirname "$0")/.."
BUILD=${SKIFF_BUILD:-build}
SKIFF=${SKIFF:-$PWD/$BUILD/skiff}
image_dir=/var/lib/skiff/images
outdir=$BUILD/rootfs
while [ $# -gt 0 ]; do
	case $1 in
	--image-dir) image_dir=${2:?--image-dir needs a directory} && shift 2 ;;
	--out) outdir=${2:?--out needs a directory} && shift 2 ;;
	-*) echo "rootfs-examples/build.sh: unknown option $1" >&2 && exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- busybox web

PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# import_args NAME: what runs when a Pod gives no command (the image config)
import_args() {
	case $1 in
	busybox) set -- --cmd '["sh"]' ;;
	web) set -- --entrypoint '["httpd","-f","-v","-p","8888","-h","/www"]' ;;
	debian) set -- --cmd '["bash"]' ;;
	*) set -- ;;
	esac
	for a in "$@" --env "$PATH_ENV"; do printf '%s\n' "$a"; done
}

for name in "$@"; do
	if [ ! -x "rootfs-examples/$name/build.sh" ]; then
		echo "rootfs-examples: no example \"$name\" (busybox, web, debian)" >&2
		exit 1
	fi
	out=$outdir/$name
	mkdir -p "$outdir"
	"rootfs-examples/$name/build.sh" "$out"
	# what the image would be: the tree (times aside) and its config
	fp=$({
		import_args "$name"
		tar --format=gnu --sort=name --mtime=@0 --numeric-owner -C "$out" -cf - .
	} | sha256sum | cut -c1-64)
	stamp=$outdir/$name.stamp
	id=$("$SKIFF" image inspect --image-dir "$image_dir" "$name:latest" 2>/dev/null |
		sed -n 's/^id: *//p')
	if [ -n "$id" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fp $id" ]; then
		echo "  IMAGE	$name:latest is up to date (${id%"${id#????????????}"})"
		continue
	fi
	# one argument per line, so JSON with blanks survives the shell
	# shellcheck disable=SC2046
	(
		IFS='
'
		set -- $(import_args "$name")
		"$SKIFF" image import --image-dir "$image_dir" "$@" "$name:latest" "$out" >/dev/null
	)
	id=$("$SKIFF" image inspect --image-dir "$image_dir" "$name:latest" | sed -n 's/^id: *//p')
	echo "$fp $id" >"$stamp"
	echo "  IMAGE	$name:latest imported (${id%"${id#????????????}"}) into $image_dir"
done
