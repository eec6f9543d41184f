/// Keeps label sets bounded: per owner (a port and direction, a port and reason), at most
/// `limit` distinct values get a series of their own; later values share one series with
/// the value `overflow`. Admission is sticky (first seen, first admitted), so a series never
/// changes meaning, and an owner's admissions are forgotten with the owner.
public struct LabelBounds: Sendable, Equatable {
    public let limit: Int
    public let overflow: String
    private var admitted: [String: Set<String>] = [:]

    public init(limit: Int, overflow: String = "other") {
        precondition(limit > 0)
        self.limit = limit
        self.overflow = overflow
    }

    /// The label value to use for `value` under `owner`.
    public mutating func label(_ value: String, owner: String) -> String {
        if admitted[owner]?.contains(value) == true { return value }
        if admitted[owner, default: []].count < limit {
            admitted[owner, default: []].insert(value)
            return value
        }
        return overflow
    }

    /// Forgets every owner not in `live` (ports that are gone).
    public mutating func retain(owners live: Set<String>) {
        admitted = admitted.filter { live.contains($0.key) }
    }

    public var owners: Dictionary<String, Set<String>>.Keys { admitted.keys }
}
