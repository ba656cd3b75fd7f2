#!/usr/bin/env bash
# Builds thaw's guest image from Debian packages into $1 (a fresh, empty directory):
#   vmlinuz      Debian's cloud kernel
#   initrd.img   busybox + the virtio modules; mounts the root disk read-only, starts thaw-init
#   rootfs.ext4  Debian bookworm (minbase) + python3 + the thaw agent
#   kernel.release
# The debootstrap tree is cached in $THAW_BASE_CACHE (keyed by suite + packages) because it is
# the slow step; everything else is rebuilt from it in seconds.
# Lines starting with "step:" are progress for the caller.
set -euo pipefail
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITE=bookworm
PACKAGES=$(grep -v '^#' "$HERE/packages.txt" | tr -s ' \n' ',' | sed 's/^,//;s/,$//')
BASE_CACHE=${THAW_BASE_CACHE:?THAW_BASE_CACHE must be set}
WORK=$(mktemp -d "${OUT%/}.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The Debian mirror this host's apt already uses (first deb URI serving the suite).
mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /(^| )'"$SUITE"'( |$)/ && u!="") {print u; exit} }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb" && $3=="'"$SUITE"'" {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || { echo "no apt source for $SUITE found in /etc/apt" >&2; exit 1; }
  echo "$m"
}

echo "step: kernel (Debian linux-image-cloud-amd64)"
KPKG=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
[ -n "$KPKG" ] || { apt-get update -q >/dev/null; KPKG=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); }
chmod 755 "$WORK"; (cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$KPKG" >/dev/null)
mkdir -p "$WORK/kernel"
dpkg-deb -x "$WORK"/${KPKG}_*.deb "$WORK/kernel"
KREL=$(ls "$WORK/kernel/lib/modules")
cp "$WORK/kernel/boot/vmlinuz-$KREL" "$OUT/vmlinuz"
echo "$KREL" > "$OUT/kernel.release"

echo "step: initramfs (busybox + virtio modules)"
IR="$WORK/initrd"
mkdir -p "$IR"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$IR/bin/busybox"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_blk virtio_console; do
  f=$(find "$WORK/kernel/lib/modules/$KREL" -name "$m.ko*" | head -n1)
  [ -n "$f" ] || continue          # built into this kernel
  case "$f" in
    *.xz) xz -dc "$f" > "$IR/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$IR/lib/modules/$m.ko" ;;
    *) cp "$f" "$IR/lib/modules/$m.ko" ;;
  esac
  echo "$m" >> "$IR/lib/modules/order"
done
cp "$HERE/initrd-init.sh" "$IR/init"
chmod 755 "$IR/init"
(cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initrd.img"

KEY=$(printf '%s %s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)
BASE="$BASE_CACHE/debootstrap-$KEY.tar"
if [ ! -f "$BASE" ]; then
  echo "step: root filesystem (debootstrap $SUITE minbase + $PACKAGES; takes a few minutes)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/rootfs" "$(mirror)" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
  # Slim the tree: caches, docs and locales are never used inside the guest.
  rm -rf "$WORK/rootfs"/var/cache/apt/* "$WORK/rootfs"/var/lib/apt/lists/* \
         "$WORK/rootfs"/usr/share/{doc,man,info,locale}/*
  mkdir -p "$BASE_CACHE"
  tar -C "$WORK/rootfs" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$WORK/rootfs"
else
  echo "step: root filesystem (cached debootstrap tree)"
fi
mkdir -p "$WORK/rootfs"
tar -C "$WORK/rootfs" -xf "$BASE"

echo "step: guest agent"
install -d "$WORK/rootfs/opt/thaw"
install -m 644 "$HERE/agent.py" "$HERE/thaw.py" "$WORK/rootfs/opt/thaw/"
install -m 755 "$HERE/thaw-init.sh" "$WORK/rootfs/sbin/thaw-init"
# The guest reaches thaw's helper library as `import thaw`.
PYDIR=$(ls -d "$WORK/rootfs"/usr/lib/python3/dist-packages)
ln -sf /opt/thaw/thaw.py "$PYDIR/thaw.py"

echo "step: disk image (ext4, read-only in the guest)"
SIZE_MB=$(( $(du -sm "$WORK/rootfs" | cut -f1) * 13 / 10 + 64 ))
mkfs.ext4 -q -F -L thawroot -E root_owner=0:0 -d "$WORK/rootfs" "$OUT/rootfs.ext4" "${SIZE_MB}M"
echo "step: done ($KREL, rootfs ${SIZE_MB} MiB)"
