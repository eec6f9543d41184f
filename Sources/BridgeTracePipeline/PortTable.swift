import Synchronization

/// ifindex -> port name, posted by the thread that owns the source (ports come and go)
/// and read by the drain threads, each from a copy of its own: one atomic load per
/// record instead of a lock.
final class PortTable: Sendable {
    /// What one drain thread reads.
    struct View {
        var ports: [Int32: String]
        var generation: Int
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
        view.ports = posted.withLock { $0 }
        view.generation = now
    }
}
