import Foundation

/// "Somebody else's" XDP program (Fixtures/foreign_counter.bpf.c): compiled with the
/// toolchain's clang, attached with iproute2, read back with bpftool.
enum ForeignXDP {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/foreign_counter.bpf.c").path

    /// The object's path; the caller removes it (`defer`) once it is attached.
    static func compile() throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bt-foreign-\(getpid()).o").path
        let clang = FileManager.default.isExecutableFile(atPath: "/opt/swift/usr/bin/clang") ? "/opt/swift/usr/bin/clang" : "clang"
        var arch = utsname()
        uname(&arch)
        let machine = withUnsafeBytes(of: arch.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        try run([clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/\(machine)-linux-gnu", "-c", source, "-o", output])
        return output
    }

    /// The id of the foreign program's counter map, found through the program on `device`.
    static func counterMapID(netns: String, device: String) throws -> Int {
        let link = try run(["ip", "-n", netns, "-j", "-d", "link", "show", "dev", device])
        guard let entry = (try JSONSerialization.jsonObject(with: Data(link.utf8)) as? [[String: Any]])?.first,
              let xdp = entry["xdp"] as? [String: Any], let prog = xdp["prog"] as? [String: Any],
              let progID = prog["id"] as? Int else {
            throw BackgroundFailure("no XDP program on \(device)")
        }
        let show = try run(["bpftool", "-j", "prog", "show", "id", String(progID)])
        guard let info = try JSONSerialization.jsonObject(with: Data(show.utf8)) as? [String: Any],
              info["name"] as? String == "foreign_xdp", let maps = info["map_ids"] as? [Int], let map = maps.first else {
            throw BackgroundFailure("the XDP program on \(device) is not the foreign one: \(show)")
        }
        return map
    }

    static func count(mapID: Int) throws -> Int {
        let dump = try run(["bpftool", "-j", "map", "lookup", "id", String(mapID), "key", "0", "0", "0", "0"])
        guard let entry = try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any] else {
            throw BackgroundFailure("cannot parse bpftool output: \(dump)")
        }
        if let formatted = entry["formatted"] as? [String: Any], let value = formatted["value"] as? Int { return value }
        if let bytes = entry["value"] as? [String] {
            return bytes.enumerated().reduce(0) { $0 | (Int($1.element.dropFirst(2), radix: 16)! << (8 * $1.offset)) }
        }
        throw BackgroundFailure("unexpected bpftool output: \(dump)")
    }
}

/// What bridgetrace has attached, seen from outside with bpftool (not our own code).
enum BridgetracePrograms {
    /// "dev:hook:name" for every bt_* XDP or tc program in `netns`.
    static func attached(netns: String) throws -> [String] {
        let output = try exec(inNetns: netns, ["bpftool", "-j", "net", "show"])
        guard let sections = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else { return [] }
        var found: [String] = []
        for section in sections {
            for entry in section["xdp"] as? [[String: Any]] ?? [] {
                let name = (try? programName(id: entry["id"] as? Int ?? 0)) ?? ""
                if name.hasPrefix("bt_") { found.append("\(entry["devname"] ?? "?"):xdp:\(name)") }
            }
            for entry in section["tc"] as? [[String: Any]] ?? [] {
                let name = entry["name"] as? String ?? ""
                if name.hasPrefix("bt_") { found.append("\(entry["devname"] ?? "?"):\(entry["kind"] ?? "tc"):\(name)") }
            }
        }
        return found
    }

    /// Program ids of the bt_* programs attached in `netns`.
    static func attachedIDs(netns: String) throws -> Set<Int> {
        let output = try exec(inNetns: netns, ["bpftool", "-j", "net", "show"])
        let sections = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        var ids: Set<Int> = []
        for section in sections {
            for entry in (section["xdp"] as? [[String: Any]] ?? []) + (section["tc"] as? [[String: Any]] ?? []) {
                if let id = entry["id"] as? Int, (try? programName(id: id))?.hasPrefix("bt_") == true { ids.insert(id) }
            }
        }
        return ids
    }

    /// True once none of `ids` is loaded any more (polls for up to 5 s).
    static func waitUntilUnloaded(_ ids: Set<Int>) -> Bool {
        let deadline = Date().addingTimeInterval(TestTime.scaled(5))
        repeat {
            let output = (try? run(["bpftool", "-j", "prog", "show"])) ?? "[]"
            let programs = (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
            if ids.isDisjoint(with: Set(programs.compactMap { $0["id"] as? Int })) { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    static func programName(id: Int) throws -> String {
        let output = try run(["bpftool", "-j", "prog", "show", "id", String(id)])
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])?["name"] as? String ?? ""
    }
}

/// The bpf_links a process holds, read from /proc/PID/fdinfo (the kernel's own account,
/// not bridgetrace's): what dies with the process.
struct HeldLink: Hashable {
    var type: String
    var linkID: Int
    var programID: Int
    var ifindex: Int?
    var attachType: String?

    static func held(by pid: Int32) -> [HeldLink] {
        let directory = "/proc/\(pid)/fdinfo"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.compactMap { entry in
            guard let text = try? String(contentsOfFile: directory + "/" + entry, encoding: .utf8) else { return nil }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            guard let type = fields["link_type"], let link = fields["link_id"].flatMap({ Int($0) }),
                  let program = fields["prog_id"].flatMap({ Int($0) }) else { return nil }
            return HeldLink(type: type, linkID: link, programID: program, ifindex: fields["ifindex"].flatMap { Int($0) },
                            attachType: fields["attach_type"])
        }
    }

    /// True while the kernel still knows the link.
    static func exists(id: Int) -> Bool {
        (try? runResult(["bpftool", "link", "show", "id", String(id)]))?.status == 0
    }
}
