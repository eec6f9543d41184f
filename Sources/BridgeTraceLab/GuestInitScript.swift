/// The /init of a lab guest's initramfs: a busybox shell script that loads the network
/// modules, configures eth0 from the kernel command line and prints a marker on the serial
/// console that `QEMUGuest` waits for. It is the same for every guest; what differs (address,
/// MAC, VLAN) comes from `bt.*` arguments on the kernel command line, so one cached initramfs
/// per kernel serves every lab.
///
/// Kernel command line arguments it reads:
/// - `bt.ip=A.B.C.D/N` (required), `bt.gw=A.B.C.D`, `bt.mac=xx:..`, `bt.name=vm1`
/// - `bt.vlan=ID`: put the address on eth0.ID instead of eth0, so everything the guest sends
///   is 802.1Q-tagged with ID (the vlan_mismatch setup); needs the 8021q module.
/// - `bt.ping=A.B.C.D`: ping that address once a second forever, so the guest is never idle.
/// - `bt.send=A.B.C.D:PORT:MB`: send MB MiB of zeros over TCP to that address and port once
///   (busybox nc, retried each second until something listens): a VM's bulk TCP, with the
///   guest kernel's offloads.
enum GuestInitScript {
    static let readyMarker = "BRIDGETRACE-GUEST-READY"
    static let errorMarker = "BRIDGETRACE-GUEST-ERROR"

    /// The script, loading `modules` (file names under /lib/modules in the archive, in
    /// dependency order: each after the ones it needs).
    static func text(modules: [String]) -> String {
        """
        #!/bin/busybox sh
        # bridgetrace lab guest init (generated; see GuestInitScript.swift)
        /bin/busybox mkdir -p /proc /sys /dev /tmp
        /bin/busybox mount -t proc proc /proc
        /bin/busybox mount -t sysfs sysfs /sys
        /bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
        /bin/busybox --install -s /bin
        export PATH=/bin
        exec </dev/console >/dev/console 2>&1
        fail() { echo "\(errorMarker) $*"; while :; do sleep 3600; done; }
        for m in \(modules.joined(separator: " ")); do
            insmod /lib/modules/$m || fail "insmod $m failed"
        done
        IP= GW= MAC= NAME=guest VLAN= PING= SEND=
        for a in $(cat /proc/cmdline); do
            case "$a" in
                bt.ip=*) IP=${a#bt.ip=} ;;
                bt.gw=*) GW=${a#bt.gw=} ;;
                bt.mac=*) MAC=${a#bt.mac=} ;;
                bt.name=*) NAME=${a#bt.name=} ;;
                bt.vlan=*) VLAN=${a#bt.vlan=} ;;
                bt.ping=*) PING=${a#bt.ping=} ;;
                bt.send=*) SEND=${a#bt.send=} ;;
            esac
        done
        [ -n "$IP" ] || fail "no bt.ip= on the kernel command line"
        hostname "$NAME"
        i=0
        while [ ! -e /sys/class/net/eth0 ]; do
            i=$((i + 1)); [ $i -le 300 ] || fail "no eth0 after 30 s"; sleep 0.1
        done
        ip link set lo up
        [ -z "$MAC" ] || ip link set eth0 address "$MAC" || fail "cannot set MAC $MAC"
        ip link set eth0 up || fail "cannot bring eth0 up"
        DEV=eth0
        if [ -n "$VLAN" ]; then
            DEV=eth0.$VLAN
            ip link add link eth0 name "$DEV" type vlan id "$VLAN" || fail "cannot add VLAN $VLAN"
            ip link set "$DEV" up || fail "cannot bring $DEV up"
        fi
        ip addr add "$IP" dev "$DEV" || fail "cannot add $IP to $DEV"
        [ -z "$GW" ] || ip route add default via "$GW" dev "$DEV" || fail "cannot route via $GW"
        echo "\(readyMarker) name=$NAME dev=$DEV ip=$IP mac=$(cat /sys/class/net/eth0/address)"
        [ -z "$PING" ] || ping "$PING" >/dev/null 2>&1 &
        if [ -n "$SEND" ]; then
            (IFS=:; set -- $SEND
             until dd if=/dev/zero bs=1048576 count="$3" 2>/dev/null | nc "$1" "$2"; do sleep 1; done) &
        fi
        while :; do sleep 3600; done
        """ + "\n"
    }
}
