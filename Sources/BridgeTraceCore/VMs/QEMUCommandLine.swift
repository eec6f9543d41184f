/// A QEMU started without libvirt, read from its command line (/proc/PID/cmdline): the VM
/// is its `-name` and its taps the `ifname=` of `-netdev tap`, `-nic tap` or `-net tap`,
/// in QEMU's key=value form or its JSON form.
public enum QEMUCommandLine {
    /// From the raw bytes of /proc/PID/cmdline (arguments separated by NUL).
    public static func parse(cmdline: [UInt8], pid: Int32? = nil) -> VMInterfaces? {
        parse(arguments: cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) },
              pid: pid)
    }

    /// nil unless the program is a QEMU system emulator with a `-name` and a tap NIC.
    public static func parse(arguments: [String], pid: Int32? = nil) -> VMInterfaces? {
        guard let program = arguments.first?.split(separator: "/").last, program.hasPrefix("qemu-system-") || program == "qemu-kvm" else {
            return nil
        }
        var name: String?
        var interfaces: [String] = []
        var index = 1
        while index + 1 < arguments.count {
            var option = Substring(arguments[index])
            guard option.hasPrefix("-") else { index += 1; continue }
            option = option.dropFirst(option.hasPrefix("--") ? 2 : 1)
            let value = arguments[index + 1]
            switch option {
            case "name":
                // "-name web-01" or "-name guest=web-01,debug-threads=on": the first bare value is the guest name.
                let options = keyValues(value, implicitKey: "guest")
                if let guest = options.first(where: { $0.key == "guest" })?.value, !guest.isEmpty { name = guest }
            case "netdev", "nic", "net":
                let options = value.hasPrefix("{") ? jsonMembers(value) : keyValues(value, implicitKey: "type")
                if options.first(where: { $0.key == "type" })?.value == "tap",
                   let ifname = options.first(where: { $0.key == "ifname" })?.value, !ifname.isEmpty {
                    interfaces.append(ifname)
                }
            default:
                index += 1
                continue
            }
            index += 2
        }
        guard let name, !interfaces.isEmpty else { return nil }
        return VMInterfaces(name: name, pid: pid, interfaces: interfaces)
    }

    /// QEMU's option syntax: "a=1,b=2", a first value with no key names `implicitKey`, and
    /// ",," is a comma inside a value.
    static func keyValues(_ text: String, implicitKey: String) -> [(key: String, value: String)] {
        var parts: [String] = []
        var current = ""
        var characters = text.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if character == "," {
                if pending == "," {
                    current.append(",")
                    pending = characters.next()
                } else {
                    parts.append(current)
                    current = ""
                }
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.enumerated().map { index, part in
            if let equals = part.firstIndex(of: "=") {
                return (String(part[..<equals]), String(part[part.index(after: equals)...]))
            }
            return (index == 0 ? implicitKey : part, index == 0 ? part : "on")
        }
    }

    /// The top-level string members of a flat JSON object, as QEMU's JSON options are
    /// (`{"type":"tap","ifname":"tap0","id":"n0"}`); numbers, booleans and nested values are skipped.
    static func jsonMembers(_ text: String) -> [(key: String, value: String)] {
        var members: [(key: String, value: String)] = []
        var scalars = Array(text.unicodeScalars)[...]
        var depth = 0
        var key: String?
        var afterColon = false
        func readString() -> String? {
            var out = String.UnicodeScalarView()
            scalars = scalars.dropFirst()  // the opening quote
            while let scalar = scalars.first {
                scalars = scalars.dropFirst()
                switch scalar {
                case "\"": return String(out)
                case "\\":
                    guard let escaped = scalars.first else { return nil }
                    scalars = scalars.dropFirst()
                    switch escaped {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "u":
                        let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                        scalars = scalars.dropFirst(4)
                        if let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) { out.append(decoded) }
                    default: out.append(escaped)
                    }
                default: out.append(scalar)
                }
            }
            return nil
        }
        while let scalar = scalars.first {
            switch scalar {
            case "{", "[":
                depth += 1
                scalars = scalars.dropFirst()
            case "}", "]":
                depth -= 1
                scalars = scalars.dropFirst()
            case "\"":
                guard let string = readString() else { return members }
                if depth == 1 {
                    if afterColon, let pendingKey = key {
                        members.append((pendingKey, string))
                        key = nil
                        afterColon = false
                    } else {
                        key = string
                    }
                }
            case ":":
                afterColon = key != nil
                scalars = scalars.dropFirst()
            case ",":
                key = nil
                afterColon = false
                scalars = scalars.dropFirst()
            default:
                scalars = scalars.dropFirst()
            }
        }
        return members
    }
}
