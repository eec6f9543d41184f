import Synchronization

/// ifindex -> port name, posted by the thread that owns the source (ports come and go)
/// and read by the drain threads, each from a copy of its own: one atomic load per
/// record instead of a lock.
final class PortTable: Sendable {
    /// What one drain thread reads.
    struct View {
        private(set) var ports: [Int32: String]
        /// The same names for ifindexes below `directLimit`, indexed: an array load per
        /// record instead of hashing the ifindex.
        private var direct: [String?] = []
        private(set) var generation: Int

        static let directLimit: Int32 = 4096

        init(ports: [Int32: String], generation: Int) {
            self.ports = ports
            self.generation = generation
            let small = ports.keys.filter { $0 >= 0 && $0 < Self.directLimit }
            if let largest = small.max() {
                direct = Array(repeating: nil, count: Int(largest) + 1)
                for ifindex in small { direct[Int(ifindex)] = ports[ifindex] }
            }
        }

        subscript(ifindex: Int32) -> String? {
            if ifindex >= 0 && Int(ifindex) < direct.count { return direct[Int(ifindex)] }
            return ifindex >= 0 && ifindex < Self.directLimit ? nil : ports[ifindex]
        }
    }

    private let posted: Mutex<[Int32: String]>
    private let generation = Atomic<Int>(0)

    init(_ ports: [Int32: String]) {
        posted = Mutex(ports)
    }

    func post(_ ports: [Int32: String]) {
        posted.withLock { $0 = ports }
        generation.add(1, ordering: .releasing)
    }

    func view() -> View {
        View(ports: posted.withLock { $0 }, generation: generation.load(ordering: .acquiring))
    }

    /// Brings `view` up to the last post.
    func update(_ view: inout View) {
        let now = generation.load(ordering: .acquiring)
        guard now != view.generation else { return }
        view = View(ports: posted.withLock { $0 }, generation: now)
    }
}
