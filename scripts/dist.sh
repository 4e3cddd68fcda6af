#!/usr/bin/env bash
# Builds what people install, into OUT (default dist/): the Debian packages casebook and casebook-server
# (dpkg-deb from a staged tree, nothing fetched), a tarball per program, and SHA256SUMS.
#
#   scripts/dist.sh                        release build with the Swift runtime linked in, then package (make dist)
#   scripts/dist.sh --bin DIR [--out DIR]  package binaries already built (the packaging test uses the debug build)
#   --fast                                 light compression (for tests)
#
# The version comes from the binaries (`--version`, set in Sources/Shared/Release/CasebookVersion.swift). Each
# package depends on what its binary links (dpkg-shlibdeps where dpkg-dev is installed, else the owners of the
# libraries ldd finds, without versions). Packages: man pages for every command (scripts/manpages.py), bash, zsh
# and fish completions; the server's adds the systemd unit and /etc/casebook/server.env (packaging/).
set -euo pipefail
# Packages must not inherit a private umask (077 makes dpkg-deb refuse DEBIAN/, and installed files unreadable).
umask 022
cd "$(dirname "$0")/.."

bin="" out="dist" fast=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --fast) fast=1; shift ;;
        *) echo "usage: scripts/dist.sh [--bin DIR] [--out DIR] [--fast]" >&2; exit 64 ;;
    esac
done
die() { echo "dist: $*" >&2; exit 1; }
for tool in dpkg-deb python3 readelf; do
    command -v "$tool" >/dev/null || die "$tool is needed (apt-get install dpkg python3 binutils)"
done

if [ -z "$bin" ]; then
    for product in casebook-server casebook; do
        echo "dist: building $product (release, Swift runtime linked statically)"
        swift build -c release --static-swift-stdlib --product "$product"
    done
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"
fi
bin="$(cd "$bin" && pwd)"
for program in casebook casebook-server; do
    [ -x "$bin/$program" ] || die "$bin/$program is missing: build it first (swift build)"
done

version="$("$bin/casebook-server" --version | awk '{print $2}')"
[ "$("$bin/casebook" --version | awk '{print $2}')" = "$version" ] || die "casebook and casebook-server report different versions"
arch="$(dpkg --print-architecture)"
machine="$(uname -m)"
maintainer="${CASEBOOK_MAINTAINER:-Casebook maintainers <maintainers@casebook.invalid>}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
if [ "$fast" = 1 ]; then deb_compression=(-Zgzip -z1); gzip_level=-1; else deb_compression=(-Zxz); gzip_level=-6; fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/casebook-dist.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# The program, stripped of debug information (symbol names stay, for crash reports), its man pages and completions.
stage_program() {
    local name="$1" root="$stage/$1"
    install -D -m 755 "$bin/$name" "$root/usr/bin/$name"
    strip --strip-debug "$root/usr/bin/$name"
    mkdir -p "$root/usr/share/man/man1"
    python3 scripts/manpages.py "$root/usr/bin/$name" "$root/usr/share/man/man1" >/dev/null
    gzip -n "$gzip_level" "$root/usr/share/man/man1/"*.1
    install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
        "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/doc/$name"
    "$root/usr/bin/$name" --generate-completion-script bash > "$root/usr/share/bash-completion/completions/$name"
    "$root/usr/bin/$name" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_$name"
    "$root/usr/bin/$name" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/$name.fish"
    install -m 644 README.md "$root/usr/share/doc/$name/README.md"
}

# The packages providing the libraries a binary links, for Depends: dpkg-shlibdeps (versioned) for the
# libraries it names itself, plus the owners of every library ldd finds behind them (a debug build reaches
# libxml2 and ICU through the toolchain's FoundationXML, which dpkg-shlibdeps does not follow).
library_packages() {
    local binary="$1" work="$stage/shlibdeps" versioned="" package
    if command -v dpkg-shlibdeps >/dev/null; then
        mkdir -p "$work/debian"
        printf 'Source: casebook\n\nPackage: casebook\nArchitecture: any\n' > "$work/debian/control"
        versioned="$( (cd "$work" && dpkg-shlibdeps -O --ignore-missing-info "$binary" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p')"
    fi
    local all="$versioned"
    for package in $(ldd "$binary" | awk '/=> \// {print $3}' | while read -r library; do
        dpkg -S "$library" 2>/dev/null || dpkg -S "$(readlink -f "$library")" 2>/dev/null || true
    done | cut -d: -f1 | sort -u); do
        if ! printf '%s\n' "$all" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$package"; then
            all="${all:+$all, }$package"
        fi
    done
    printf '%s\n' "$all"
}

# Every library the binary needs must come from a package (or, in a debug build, the Swift toolchain).
check_libraries() {
    local binary="$1" library path runtime=()
    for library in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        # ldd prints "soname => /path (address)", or "/path (address)" for the dynamic loader.
        path="$(ldd "$binary" | awk -v lib="$library" '$1 == lib && $3 ~ /^\// {print $3} $1 ~ "/" lib "$" {print $1}' | head -1)"
        [ -n "$path" ] || die "$(basename "$binary") needs $library, which is not installed"
        if dpkg -S "$path" >/dev/null 2>&1 || dpkg -S "$(readlink -f "$path")" >/dev/null 2>&1; then continue; fi
        case "$library" in
            libswift*|libFoundation*|lib_Foundation*|libdispatch*|libBlocksRuntime*) runtime+=("$library") ;;
            *) die "$(basename "$binary") needs $library ($path), which no Debian package provides: link it statically or package it" ;;
        esac
    done
    if [ "${#runtime[@]}" -gt 0 ]; then
        echo "dist: note: $(basename "$binary") links the Swift runtime dynamically (${#runtime[@]} libraries: not a release build); its package runs only where this toolchain is installed"
    fi
}

# DEBIAN/control, md5sums and the maintainer scripts, then the .deb.
build_deb() {
    local name="$1" summary="$2" description="$3" root="$stage/$1"
    check_libraries "$root/usr/bin/$name"
    local depends
    depends="$(library_packages "$root/usr/bin/$name")"
    mkdir -p "$root/DEBIAN"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Section: net"
        echo "Priority: optional"
        echo "Description: $summary"
        echo "$description" | fold -s -w 78 | sed 's/ *$//; s/^/ /'
    } > "$root/DEBIAN/control"
    (cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
    dpkg-deb --root-owner-group "${deb_compression[@]}" --build "$root" "$out/${name}_${version}_${arch}.deb" >/dev/null
    echo "dist: $out/${name}_${version}_${arch}.deb"
}

# bin/ and share/ under NAME-VERSION/, as one would unpack into /usr/local or /opt.
build_tarball() {
    local name="$1" root="$stage/$1" top="$stage/tar/$1-$version"
    mkdir -p "$top"
    cp -a "$root/usr/bin" "$root/usr/share" "$top/"
    shift
    [ $# -gt 0 ] && install -D -m 644 -t "$top/share/doc/$name/examples" "$@"
    tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -C "$stage/tar" -cf - "$name-$version" \
        | gzip -n "$gzip_level" > "$out/$name-$version-linux-$machine.tar.gz"
    echo "dist: $out/$name-$version-linux-$machine.tar.gz"
}

stage_program casebook
build_deb casebook "offline field client for Casebook (human-rights documentation)" \
    "Casebook helps human-rights researchers document cases and track what their country promised at the UN's Universal Periodic Review, where the network is down, watched or cut. Each researcher keeps an encrypted copy of the team's records, works offline, and syncs with the team's casebook-server when a connection appears; edits two people made without seeing each other's are kept side by side until a person decides."
build_tarball casebook

stage_program casebook-server
server="$stage/casebook-server"
install -D -m 644 packaging/casebook-server.service "$server/usr/lib/systemd/system/casebook-server.service"
install -D -m 640 packaging/server.env "$server/etc/casebook/server.env"
install -m 644 docs/deployment.md "$server/usr/share/doc/casebook-server/deployment.md"
mkdir -p "$server/DEBIAN"
echo /etc/casebook/server.env > "$server/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 755 "packaging/casebook-server.$script" "$server/DEBIAN/$script"; done
build_deb casebook-server "sync server for Casebook field replicas" \
    "Holds a team's Casebook records and lets the researchers' casebook replicas sync with it, on an embedded SQLite store or PostgreSQL. Installed as the casebook-server systemd service (its own system user, data in /var/lib/casebook, settings in /etc/casebook/server.env); casebook-server doctor checks a deployment."
build_tarball casebook-server packaging/casebook-server.service packaging/server.env

(cd "$out" && sha256sum ./*"$version"* | sed 's| \./| |' > SHA256SUMS)
echo "dist: $out/SHA256SUMS"
