#!/usr/bin/env bash
# Installs a package made by scripts/package.sh into a fresh temporary directory (dpkg-deb -x: the
# files of `apt install`, without root and without touching this machine) and tries it as an agency
# would: `plazo --version`, keys, and a dry-run seal of docs/examples/police-export.csv with the
# installed binary. Also checks that the binary links nothing of the Swift toolchain nor libsodium,
# that every library it does link belongs to a package in Depends, and that the documents are there.
#
#   scripts/package-check.sh                    the newest dist/plazo_*.deb
#   scripts/package-check.sh dist/plazo_0.1.0_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."

deb=${1:-$(ls -t dist/plazo_*.deb 2>/dev/null | head -1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "package-check.sh: no package (run scripts/package.sh first)" >&2; exit 1; }
fail() { echo "package-check.sh: $*" >&2; exit 1; }

dir=$(mktemp -d /tmp/plazo-install.XXXXXX)
trap 'rm -rf "$dir"' EXIT
dpkg-deb -x "$deb" "$dir/root"
plazo=$dir/root/usr/bin/plazo
echo "== $deb installed into $dir/root"

for f in usr/bin/plazo usr/share/man/man1/plazo.1.gz usr/share/man/man1/plazo.seal.1.gz \
         usr/share/doc/plazo/copyright usr/share/doc/plazo/README usr/share/doc/plazo/agency-guide.md \
         usr/share/doc/plazo/batch-format.md usr/share/doc/plazo/events.md usr/share/doc/plazo/help/plazo.seal.txt \
         usr/share/doc/plazo/licenses/libsodium/copyright usr/share/doc/plazo/licenses/swift-toolchain/LICENSE.txt; do
    [ -s "$dir/root/$f" ] || fail "the package has no /$f"
done
grep -q -- '--dry-run' "$dir/root/usr/share/doc/plazo/help/plazo.seal.txt" || fail "help/plazo.seal.txt is not seal's help"

# The version the package says is the version the binary says.
version=$(env -i PATH=/usr/bin:/bin "$plazo" --version)
package_version=$(dpkg-deb -f "$deb" Version)
echo "plazo --version: $version (package $package_version)"
[ "${package_version%%~*}" = "$version" ] || fail "package version $package_version, binary $version"

# Nothing of the toolchain; every library the binary needs comes from a package it depends on.
libs=$(ldd "$plazo")
echo "$libs"
! grep -E 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime|libsodium|not found' <<<"$libs" \
    || fail "the installed binary links the libraries above dynamically"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/[[:space:]]*(.*//; s/^[[:space:]]*//; s/:.*//')
while read -r path; do
    owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) \
        || owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$owner" ] || fail "no package owns $path"
    grep -Fxq "$owner" <<<"$depends_names" || fail "$path is from $owner, which Depends does not name"
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$libs")

# A dry run of the example export with the installed binary, in a directory of its own, with no
# environment from the build: keys made by the same binary, and no batch written.
work=$dir/agency
mkdir -p "$work"
cp docs/examples/police-export.csv "$work/"
run() { (cd "$work" && env -i PATH=/usr/bin:/bin HOME="$work" "$plazo" "$@"); }
run keys service --out service >/dev/null
run keys agency --out police >/dev/null
run keys linkage --out police/linkage.key >/dev/null
status=0
run seal police-export.csv --dry-run --agency-id 1 --agency-type police_cyber_unit \
    --signing-key police/agency-signing.secret --service-key service/service-box.public \
    --linkage-key police/linkage.key > "$dir/dry-run.txt" || status=$?
cat "$dir/dry-run.txt"
# The example has three rows with mistakes on purpose (docs/agency-guide.md): exit status 3.
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || fail "the dry run exited $status"
grep -q '^events  *[1-9]' "$dir/dry-run.txt" || fail "the dry run read no events"
grep -q '^dry run: no batch written' "$dir/dry-run.txt" || fail "the dry run did not say it wrote nothing"
! ls "$work"/*.plzb >/dev/null 2>&1 || fail "the dry run wrote batch files"
echo "== package check passed: $deb"
