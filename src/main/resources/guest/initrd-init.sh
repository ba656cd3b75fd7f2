#!/bin/busybox sh
# Minimal initramfs: load the virtio modules, mount the root disk read-only, hand over.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/$m.ko" 2>/dev/null; done < /lib/modules/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
mount -t ext4 -o ro /dev/vda /newroot || { echo "thaw-initrd: cannot mount /dev/vda"; exec sh; }
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/thaw-init
