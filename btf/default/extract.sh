#!/usr/bin/env bash
# Regenerates the embedded default kernel BTF (btf/default/linux-6.1.btf.gz)
# from Debian's kernel package. Run through `make kernel-deb61`.
#
# Steps: download the pinned linux-image package with apt-get, take
# /boot/vmlinuz-* out of it, find the compressed vmlinux in the bzImage (the
# setup header's payload_offset/payload_length, format told by its magic:
# xz, gzip, zstd), decompress it, dump its .BTF section with llvm-objcopy, and
# gzip it without name or time stamp so the output depends on the input only.
set -euo pipefail

PKG=${DEB61_PKG:-linux-image-6.1.0-56-amd64}
VER=${DEB61_VER:-6.1.192-2}
RELEASE=${PKG#linux-image-}
OUT_DIR=$(cd "$(dirname "$0")" && pwd)
OBJCOPY=${OBJCOPY:-llvm-objcopy-16}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

if apt-get download "$PKG=$VER" >/dev/null 2>&1; then
	deb=$(ls ./*.deb)
	debsum=$(sha256sum "$deb" | cut -d' ' -f1)
	dpkg-deb --fsys-tarfile "$deb" | tar -x "./boot/vmlinuz-$RELEASE"
	img=./boot/vmlinuz-$RELEASE
	from="$PKG $VER (apt-get download, .deb sha256 $debsum)"
elif [ "$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null)" = "$VER" ] && [ -f "/boot/vmlinuz-$RELEASE" ]; then
	img=/boot/vmlinuz-$RELEASE
	from="$PKG $VER (installed /boot/vmlinuz-$RELEASE)"
else
	echo "cannot get $PKG=$VER: not downloadable and not installed" >&2
	exit 1
fi

# bzImage setup header: "HdrS" at 0x202, setup_sects at 0x1f1,
# payload_offset at 0x248 and payload_length at 0x24c (boot protocol >= 2.08).
u8()  { od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
u32() { od -An -t u4 -j "$2" -N 4 --endian=little "$1" | tr -d ' '; }
[ "$(dd if="$img" bs=1 skip=$((0x202)) count=4 2>/dev/null)" = HdrS ] || { echo "$img: not a bzImage" >&2; exit 1; }
setup_sects=$(u8 "$img" $((0x1f1)))
payload_off=$(u32 "$img" $((0x248)))
payload_len=$(u32 "$img" $((0x24c)))
start=$(( (setup_sects + 1) * 512 + payload_off ))
dd if="$img" of=payload bs=64K iflag=skip_bytes,count_bytes skip="$start" count="$payload_len" status=none

magic=$(od -An -t x1 -N 6 payload | tr -d ' ')
case "$magic" in
fd377a585a00*) xz -dc --single-stream < payload > vmlinux ;;
1f8b*) gzip -dc < payload > vmlinux || [ $? -eq 2 ] ;; # 2: trailing size word ignored
28b52ffd*) zstd -dc < payload > vmlinux ;;
*) echo "unknown payload compression (magic $magic)" >&2; exit 1 ;;
esac

"$OBJCOPY" --dump-section .BTF=vmlinux.btf vmlinux /dev/null
banner=$(strings -n 20 vmlinux | grep -m1 '^Linux version ' || true)
gzip -9n < vmlinux.btf > "$OUT_DIR/linux-6.1.btf.gz"

cat > "$OUT_DIR/SOURCE" <<EOT
release: $RELEASE
package: $from
banner: $banner
btf-sha256: $(sha256sum vmlinux.btf | cut -d' ' -f1)
btf-size: $(stat -c %s vmlinux.btf)
EOT
echo "wrote $OUT_DIR/linux-6.1.btf.gz ($(stat -c %s "$OUT_DIR/linux-6.1.btf.gz") bytes) from $from"
