#!/bin/bash
# Prepare the cgroup v2 guest's kernel in the cache (once; later runs reuse
# it) and print its version. Debian's current linux-image-amd64 is fetched
# with apt-get download (never installed on the host), unpacked with
# dpkg -x, trimmed to what a headless virtio guest loads, indexed with
# depmod, and its uncompressed vmlinux is extracted from the bzImage (qemu
# boots the ELF through its PVH entry, about 2 s faster under TCG).
#   tests/vm/kernel.sh CACHE_DIR
# Offline, the newest kernel already in the cache is used.
set -euo pipefail
cache=${1:?usage: $0 CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

die() {
	echo "tests/vm/kernel.sh: $*" >&2
	exit 1
}

newest_cached() {
	local d
	for d in $(ls -1d "$cache"/*/ 2>/dev/null | sort -rV); do
		[[ -e $d/.complete ]] && { basename "$d"; return 0; }
	done
	return 1
}

# linux-image-amd64 is a metapackage that depends on the versioned image
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
if [[ -z $pkg ]]; then
	newest_cached || die "apt-cache knows no linux-image-amd64 and nothing is cached in $cache (run apt-get update)"
	exit 0
fi
kver=${pkg#linux-image-}
dir=$cache/$kver
[[ -e $dir/.complete ]] && { echo "$kver"; exit 0; }

# one preparation at a time per cache (helpers and CI may run in parallel)
exec 9>"$cache/.lock"
flock 9
[[ -e $dir/.complete ]] && { echo "$kver"; exit 0; }

rm -rf "$dir" "$cache/dl"
mkdir -p "$cache/dl"
if ! (cd "$cache/dl" && apt-get download "$pkg" >"$cache/dl/apt.log" 2>&1); then
	cat "$cache/dl/apt.log" >&2
	newest_cached || die "cannot download $pkg and nothing is cached in $cache"
	exit 0
fi
mkdir -p "$dir"
dpkg -x "$cache"/dl/*.deb "$dir/root"
rm -rf "$cache/dl"

mods=$dir/root/lib/modules/$kver
# a headless virtio guest: drop sound, GPUs, wireless, physical NICs, ...
rm -rf "$mods/kernel/sound"
for d in "$mods"/kernel/drivers/*; do
	case ${d##*/} in
	virtio | block | net | char | md) ;;
	*) rm -rf "$d" ;;
	esac
done
rm -rf "$mods"/kernel/drivers/net/{ethernet,wireless,usb,can,wan,ieee802154,hamradio,fddi,arcnet}
depmod -b "$dir/root" "$kver"

vmlinuz=$dir/root/boot/vmlinuz-$kver
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[[ -n $off ]] || die "$vmlinuz: no xz payload found"
tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$dir/vmlinux" 2>/dev/null || true
file "$dir/vmlinux" | grep -q 'ELF 64-bit' || die "could not extract vmlinux from $vmlinuz"
touch "$dir/.complete"
echo "$kver"
