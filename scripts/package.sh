#!/usr/bin/env bash
# Builds a plazo an agency can install without Swift (issue 22, item 5):
#
#   dist/plazo_<version>_<arch>.deb           /usr/bin/plazo, man pages, help text, the agency guide,
#                                             the wire format spec and the licences
#   dist/plazo-<version>-linux-<machine>.tar.gz   the same binary and documents, for `install` by hand
#   dist/SHA256SUMS
#
# The binary carries the Swift runtime and Foundation (--static-swift-stdlib) and libsodium
# (libsodium.a from libsodium-dev), so it needs no Swift toolchain and no libsodium23. It still links
# glibc, libstdc++, SQLite and zlib dynamically: the package's Depends names them (dpkg-shlibdeps),
# and Debian's security updates for SQLite and zlib reach it.
#
#   scripts/package.sh                          release build: 15-25 minutes from clean on two cores
#   scripts/package.sh --configuration debug    from the debug build CI already has: mostly a relink;
#                                               the version gets a "~debug" suffix (not for agencies)
#   PLAZO_PACKAGE_CONFIGURATION=debug scripts/package.sh      the same
#
# Other options: --scratch-path DIR (SwiftPM's, default .build), --out DIR (default dist).
# scripts/package-check.sh installs the result into a temporary directory and tries it.
# Debian/Ubuntu; installs what it needs (scripts/ensure-deps.sh, dpkg-dev) with sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=${PLAZO_PACKAGE_CONFIGURATION:-release}
scratch=.build
out=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --configuration|-c) configuration=${2:?}; shift 2 ;;
        --configuration=*) configuration=${1#*=}; shift ;;
        --scratch-path) scratch=${2:?}; shift 2 ;;
        --scratch-path=*) scratch=${1#*=}; shift ;;
        --out) out=${2:?}; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$configuration" in
    release|debug) ;;
    *) echo "package.sh: --configuration takes release or debug, not '$configuration'" >&2; exit 2 ;;
esac

scripts/ensure-deps.sh
if ! command -v dpkg-shlibdeps >/dev/null || ! command -v dpkg-deb >/dev/null || ! command -v strip >/dev/null; then
    echo "installing dpkg-dev (dpkg-shlibdeps, strip)" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dpkg-dev >/dev/null
fi

started=$(date +%s)
sodium_a=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libsodium.a
[ -f "$sodium_a" ] || { echo "package.sh: $sodium_a is missing (libsodium-dev ships it)" >&2; exit 1; }

# libsodium statically. The linker takes the first directory on its search path that holds
# libsodium.so or libsodium.a, and SwiftPM puts the -L of the pkg-config files it reads (zlib's and
# libsodium's: /usr/lib/<multiarch>) before anything given with -Xlinker. So the build reads two
# pkg-config files of this script's (PKG_CONFIG_PATH): zlib's without its -L, and libsodium's with
# -L to a directory that holds only libsodium.a. Their Cflags are the system's, so nothing compiles
# again; only the link changes. Kept inside the scratch directory, at the same path every run.
mkdir -p "$scratch/package-static-libs/pkgconfig"
staticlibs=$(cd "$scratch/package-static-libs" && pwd)
ln -sf "$sodium_a" "$staticlibs/libsodium.a"
system_pc=$(dirname "$sodium_a")/pkgconfig
[ -f "$system_pc/libsodium.pc" ] && [ -f "$system_pc/zlib.pc" ] || { echo "package.sh: no libsodium.pc or zlib.pc in $system_pc" >&2; exit 1; }
sed "s|^Libs:.*|Libs: -L$staticlibs -lsodium|" "$system_pc/libsodium.pc" > "$staticlibs/pkgconfig/libsodium.pc"
sed 's|^Libs:.*|Libs: -lz|' "$system_pc/zlib.pc" > "$staticlibs/pkgconfig/zlib.pc"
export PKG_CONFIG_PATH=$staticlibs/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

work=$(mktemp -d /tmp/plazo-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The static Foundation's own libraries, named on the link line. Compiled with -static-stdlib, an
# object records CoreFoundation, _FoundationICU and the other libraries the static Foundation needs
# (autolink entries); compiled without, only Foundation. SwiftPM does not compile again for
# --static-swift-stdlib, so objects of an earlier plain build (the tests' debug build in CI, a
# `swift build -c release`) would link without them: undefined CF and ICU symbols. So the link gets
# them all, as one group, from a probe compiled here with -static-stdlib.
mkdir -p "$work/probe"
printf 'import Foundation\nimport Dispatch\nimport Synchronization\n' > "$work/probe/probe.swift"
swiftc -static-stdlib -parse-as-library -c "$work/probe/probe.swift" -o "$work/probe/probe.o"
autolink_extract=$(command -v swift-autolink-extract || echo "$(dirname "$(readlink -f "$(command -v swiftc)")")/swift-autolink-extract")
static_libs=$("$autolink_extract" "$work/probe/probe.o" -o - | sort -u)
grep -qx -- -lCoreFoundation <<<"$static_libs" || { echo "package.sh: the static Foundation names no CoreFoundation: $static_libs" >&2; exit 1; }
link_group=(-Xlinker --start-group)
for lib in $static_libs; do link_group+=(-Xlinker "$lib"); done
link_group+=(-Xlinker --end-group)

build_flags=(-c "$configuration" --scratch-path "$scratch" --product plazo --static-swift-stdlib "${link_group[@]}")
echo "== swift build ${build_flags[*]}"
swift build "${build_flags[@]}"
bin="$(swift build "${build_flags[@]}" --show-bin-path)/plazo"
built=$(date +%s)

# What the binary needs at run time. Nothing of the Swift toolchain, nor libsodium.
needed=$(ldd "$bin")
echo "== ldd $bin"
echo "$needed"
if grep -E 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime|libsodium|not found' <<<"$needed"; then
    echo "package.sh: the binary still links the libraries above dynamically" >&2
    exit 1
fi

version=$("$bin" --version)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "package.sh: odd version '$version' from plazo --version" >&2; exit 1; }
debversion=$version
[ "$configuration" = release ] || debversion="$version~$configuration"
arch=$(dpkg --print-architecture)
machine=$(uname -m)

root=$work/plazo_${debversion}_$arch
doc=$root/usr/share/doc/plazo
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$doc/help" "$doc/licenses" "$root/usr/share/man/man1"

# The binary. A release build loses its debug info (211 MB to 128 MB in 0.1.0) but keeps its
# symbol table (31 MB), so a crash report still names functions.
install -m 0755 "$bin" "$root/usr/bin/plazo"
if [ "$configuration" = release ]; then strip --strip-debug "$root/usr/bin/plazo"; fi

# Help: one man page per command (swift-argument-parser's generate-manual, built from the checkout
# SwiftPM already has, so offline), and the same as plain text for readers without `man`.
parser=$scratch/checkouts/swift-argument-parser
[ -f "$parser/Tools/generate-manual/GenerateManual.swift" ] || { echo "package.sh: no $parser/Tools/generate-manual" >&2; exit 1; }
tools=.build-package-tools
swift build --package-path "$parser" --scratch-path "$tools" --product generate-manual >/dev/null
mkdir -p "$work/man"
manual_date=$(git log -1 --format=%cs 2>/dev/null || date +%F)
"$(swift build --package-path "$parser" --scratch-path "$tools" --show-bin-path)/generate-manual" \
    "$root/usr/bin/plazo" --multi-page --date "$manual_date" --output-directory "$work/man"
for page in "$work"/man/*.1; do
    name=$(basename "$page" .1)                       # plazo.keys.agency
    # generate-manual leaves the blank lines of a discussion as they are; mdoc wants .Pp there.
    sed 's/^$/.Pp/' "$page" | gzip -9n > "$root/usr/share/man/man1/$name.1.gz"
    words=${name#plazo}; words=${words//./ }          # " keys agency"
    # shellcheck disable=SC2086 # the words are the subcommand path
    "$root/usr/bin/plazo" help $words > "$doc/help/$name.txt"
done
[ -s "$root/usr/share/man/man1/plazo.1.gz" ] && [ -s "$doc/help/plazo.seal.txt" ] \
    || { echo "package.sh: no help generated" >&2; exit 1; }

# Documents.
install -m 0644 docs/agency-guide.md specs/batch-format.md specs/events.md "$doc/"
cat > "$doc/README" <<EOF
plazo $version: privacy-preserving justice statistics for cases of online child sexual exploitation.

One command for agencies (de-identify, seal and submit case events; read receipts and quality
reports), for the service and for its data steward. \`plazo --help\` lists the commands,
\`man plazo.seal\` (or help/plazo.seal.txt here) explains one.

  agency-guide.md   for agencies: install, keys, the CSV export, sealing, corrections
  batch-format.md   the batch wire format v1, byte by byte
  events.md         the event vocabulary v1
  help/             every command's --help
  licenses/         the licences of the software built into the binary (see copyright)

The binary contains the Swift runtime, Foundation and libsodium; it needs only the libraries this
package depends on (glibc, libstdc++, SQLite, zlib). Built from git $(git describe --always --dirty 2>/dev/null || echo unknown) with $(swift --version 2>/dev/null | head -1).
EOF

# Licences of what is linked into the binary: the Swift runtime and Foundation, libsodium, and the
# Swift packages resolved for the build (a superset of what the binary links).
toolchain_license=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/share/swift/LICENSE.txt
mkdir -p "$doc/licenses/swift-toolchain" "$doc/licenses/libsodium"
install -m 0644 "$toolchain_license" "$doc/licenses/swift-toolchain/LICENSE.txt"
install -m 0644 "/usr/share/doc/$(dpkg -S "$sodium_a" | cut -d: -f1)/copyright" "$doc/licenses/libsodium/copyright"
packages=()
for checkout in "$scratch"/checkouts/*/; do
    pkg=$(basename "$checkout")
    packages+=("$pkg")
    mkdir -p "$doc/licenses/$pkg"
    (cd "$checkout" && find . -maxdepth 3 \( -iname 'LICENSE*' -o -iname 'NOTICE*' -o -iname 'COPYING*' \) \
        -not -path '*/Tests/*' -not -path './.git/*' -type f -print0 | xargs -0 -r cp --parents -t "$doc/licenses/$pkg")
done
find "$doc/licenses" -type f -exec chmod 0644 {} +
cat > "$doc/copyright" <<EOF
Plazo
Copyright: the Plazo authors.
The Plazo repository does not state a licence yet; ask the service steward before redistributing.

/usr/bin/plazo also contains, linked statically, software under its own licences, each in
/usr/share/doc/plazo/licenses/:

  swift-toolchain/   the Swift runtime and standard library, Foundation, CoreFoundation, Dispatch
                     (Apache License 2.0 with Runtime Library Exception). Foundation includes ICU
                     (swift-foundation-icu, under the Unicode License); the toolchain ships no
                     separate text of that licence: https://github.com/swiftlang/swift-foundation-icu
  libsodium/         libsodium $(dpkg-query -W -f '${Version}' libsodium-dev) (ISC licence)
$(for p in "${packages[@]}"; do printf '  %s/\n' "$p"; done)
EOF

# The control file. Depends from the libraries the binary links (dpkg-shlibdeps reads its ELF
# NEEDED entries and the symbol versions it uses).
mkdir -p "$work/shlibs/debian"
printf 'Source: plazo\n\nPackage: plazo\nArchitecture: any\n' > "$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O -e"$root/usr/bin/plazo" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: plazo
Version: $debversion
Architecture: $arch
Maintainer: ${PLAZO_MAINTAINER:-Plazo maintainers <plazo@invalid>}
Installed-Size: $installed_size
Depends: $depends
Section: utils
Priority: optional
Description: privacy-preserving justice statistics (agency toolkit and service)
 Plazo lets prosecutors' offices, police cyber units and hotlines send
 de-identified, encrypted and signed case events, and computes
 time-to-prosecution and attrition statistics released with differential
 privacy. This package holds the plazo command: sealing an agency's export,
 submitting it, receipts and quality reports, and the service itself.
 See /usr/share/doc/plazo/agency-guide.md.
EOF

# xz for what agencies download; a debug binary is four times larger and xz would take CI two
# minutes, so gzip -1 there.
if [ "$configuration" = release ]; then deb_compression=(-Zxz); tar_gzip="gzip -9n"
else deb_compression=(-Zgzip -z1); tar_gzip="gzip -1n"; fi
mkdir -p "$out"
deb=$out/plazo_${debversion}_$arch.deb
dpkg-deb --root-owner-group "${deb_compression[@]}" --build "$root" "$deb" >/dev/null

# The plain binary, for offices that install by hand (or not on Debian/Ubuntu).
tardir=plazo-$debversion-linux-$machine
mkdir -p "$work/$tardir"
cp -r "$doc"/. "$work/$tardir/"
cp "$root/usr/bin/plazo" "$work/$tardir/"
printf 'Needs: %s\n' "$depends" >> "$work/$tardir/README"
tarball=$out/$tardir.tar.gz
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner -I "$tar_gzip" -cf "$tarball" "$tardir"

(cd "$out" && sha256sum "$(basename "$deb")" "$(basename "$tarball")" > SHA256SUMS)
finished=$(date +%s)
echo "== $deb ($(du -h "$deb" | cut -f1)), $tarball ($(du -h "$tarball" | cut -f1))"
echo "   plazo $version, $configuration; Depends: $depends"
echo "   swift build $((built - started)) s, packaging $((finished - built)) s"
