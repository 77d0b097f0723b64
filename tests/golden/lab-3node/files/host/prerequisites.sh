#!/bin/sh
# Run as root on every node before Longhorn is installed:
#   node-a
#   node-b
#   node-c
set -eu
apt-get install -y open-iscsi nfs-common cryptsetup dmsetup
systemctl enable --now iscsid
modprobe iscsi_tcp
modprobe dm_crypt
printf 'iscsi_tcp\ndm_crypt\n' >/etc/modules-load.d/longhorn.conf
