#!/bin/sh
# Build the web example rootfs in OUT: the busybox rootfs plus a site for
# busybox httpd on port 8888. "/" answers with the pod's hostname (a CGI:
# busybox httpd runs /cgi-bin/index.cgi for a directory without
# index.html), so the page stays right on a read-only root and shows which
# pod behind a Service answered; /healthz answers "ok" for probes.
#   rootfs-examples/web/build.sh OUT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: $0 OUT}

"$here/../busybox/build.sh" "$out"
mkdir -p "$out/www/cgi-bin"
cat >"$out/www/cgi-bin/index.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
hostname
CGI
chmod 0755 "$out/www/cgi-bin/index.cgi"
echo ok >"$out/www/healthz"
