/// libvirt's description of a running domain: the live status file the QEMU driver keeps in
/// /run/libvirt/qemu/NAME.xml (`<domstatus pid=…><domain>…</domain></domstatus>`), or a
/// plain `<domain>` as `virsh dumpxml` prints it. The host side of each NIC is the `dev` of
/// `<interface>`'s `<target>` (vnetN for type bridge and network, macvtapN for direct).
/// libvirt starts QEMU with tap file descriptors, not names, so its command line cannot tell.
public enum LibvirtDomainXML {
    /// nil when the document has no `<domain>` with a `<name>`.
    public static func parse(_ document: String) -> VMInterfaces? {
        var path: [String] = []
        var name: String?
        var nameText = ""  // counts once </name> closes it: a cut file names nobody
        var pid: Int32?
        var interfaces: [String] = []
        XMLScanner.scan(document) { event in
            switch event {
            case .start(let element, let attributes):
                path.append(element)
                if path == ["domstatus"] { pid = attributes["pid"].flatMap { Int32($0) } }
                if path.suffix(4) == ["domain", "devices", "interface", "target"], isDomain(path.dropLast(3)),
                   let dev = attributes["dev"], !dev.isEmpty {
                    interfaces.append(dev)
                }
            case .end:
                if path.last == "name", isDomain(path.dropLast()), name == nil { name = nameText }
                if !path.isEmpty { path.removeLast() }
            case .text(let text):
                if path.last == "name", isDomain(path.dropLast()) { nameText += text }
            }
        }
        guard let name, !name.isEmpty else { return nil }
        return VMInterfaces(name: name, pid: pid, interfaces: interfaces)
    }

    /// The path of the domain element itself: at the root, or the one child of domstatus.
    private static func isDomain(_ path: ArraySlice<String>) -> Bool {
        path.elementsEqual(["domain"]) || path.elementsEqual(["domstatus", "domain"])
    }
}
