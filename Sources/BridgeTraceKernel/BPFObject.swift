import BridgeTraceCore
import CLibBPF

/// A loaded BPF object (from `BPFObjectSpec.load()`): its programs and maps live as long
/// as this value. Links made from its programs hold the programs on their own.
public final class BPFObject {
    public let name: String
    let opened: OpenedObject

    init(loaded opened: OpenedObject) {
        name = opened.name
        self.opened = opened
    }

    var handle: OpaquePointer { opened.handle }

    /// A loaded program by name; throws for an unknown one or one left out of the load.
    public func program(_ programName: String) throws -> BPFProgram {
        let program = try opened.program(programName)
        let fd = bpf_program__fd(program)
        if fd < 0 { throw InternalError("program \(programName) of \(name) is not loaded") }
        return BPFProgram(name: programName, fd: fd, handle: program)
    }

    public func programFD(_ programName: String) throws -> Int32 {
        try program(programName).fd
    }

    public func map(_ mapName: String) throws -> BPFMap {
        let map = try opened.map(mapName)
        return BPFMap(name: mapName, fd: bpf_map__fd(map), layout: BPFMapLayout(map))
    }

    /// Every program in the object, by name, loaded or not.
    public var programNames: [String] { opened.programNames }

    /// The programs that were loaded.
    public var programs: [BPFProgram] { programNames.compactMap { try? program($0) } }

    public func btfStructSize(_ structName: String) -> Int? {
        opened.btfStructSize(structName)
    }
}
