#!/bin/sh
# Installs the build into a temporary DESTDIR and checks that every installed piece is there:
# programs, library, headers, pkg-config, introspection (when built), systemd user units,
# man pages, bash completion, desktop entry, example config and translations.
set -eu

build_root=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build_root" --no-rebuild --quiet --destdir "$dest" >/dev/null

missing=0
expect() {
	if [ -z "$(find "$dest" -path "*$1" -print -quit)" ]; then
		echo "not installed: $1"
		missing=1
	fi
}

expect /bin/stdiolinkd
expect /bin/stdiolinkctl
expect /libstdiolink.so.0
expect /include/stdiolink-1/stdiolink.h
expect /pkgconfig/stdiolink-1.pc
expect /systemd/user/stdiolinkd.service
expect /systemd/user/stdiolinkd.socket
expect /man/man8/stdiolinkd.8
expect /man/man1/stdiolinkctl.1
expect /bash-completion/completions/stdiolinkctl
expect /applications/stdiolink.desktop
expect /doc/stdiolink/config.example.json
expect /locale/zh_CN/LC_MESSAGES/stdiolink.mo
if [ -f "$build_root/libstdiolink/Stdiolink-1.typelib" ]; then
	expect /gir-1.0/Stdiolink-1.gir
	expect /girepository-1.0/Stdiolink-1.typelib
fi

# the unit points at the installed daemon, not at a placeholder
unit=$(find "$dest" -name stdiolinkd.service -print -quit)
grep -q '^ExecStart=/.*/stdiolinkd ' "$unit" || { echo "bad ExecStart in $unit"; missing=1; }

if [ "$missing" -ne 0 ]; then
	exit 1
fi
echo "every installed piece is in place"
