#!/bin/sh
# check-po.sh SOURCE_ROOT, run by tests/test-i18n.c: every catalogue in po/LINGUAS
# translates every message of the files in po/POTFILES.in (no missing, empty or fuzzy
# entry) and passes msgfmt --check. A message added to the code gets into the .po files,
# for a translator, with `meson compile -C build stdiolink-pot`, then
# `meson compile -C build stdiolink-update-po`.
set -eu

root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the keywords of meson's glib preset (po/meson.build), plus xgettext's defaults
cd "$root"
xgettext --from-code=UTF-8 --add-comments \
	--keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
	--keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
	--files-from=po/POTFILES.in --output="$tmp/stdiolink.pot"

status=0
for lang in $(grep -v '^#' po/LINGUAS); do
	# msgcmp counts untranslated and fuzzy entries as missing
	if ! msgcmp "po/$lang.po" "$tmp/stdiolink.pot"; then
		echo "po/$lang.po: messages above lack a translation" >&2
		status=1
	fi
	if ! msgfmt --check --statistics --output-file=/dev/null "po/$lang.po"; then
		status=1
	fi
done
exit $status
