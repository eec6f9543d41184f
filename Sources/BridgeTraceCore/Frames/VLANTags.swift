/// A frame's in-band tags, outermost first: up to `capacity` (the decoder's
/// `FrameDecoder.maxVLANTags`), held inline rather than in an Array, so that decoding a
/// tagged frame allocates nothing and `DecodedFrame` stays a plain value (copied and
/// dropped without reference counting). Reads like an array of `VLANTag`, and is written
/// as one (`[VLANTag(tpid: 0x8100, vid: 100)]`).
public struct VLANTags: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    public static let capacity = 4

    private static let unused = VLANTag(tpid: 0, vid: 0)
    // Slots past `count` always hold `unused`.
    private var slots: (VLANTag, VLANTag, VLANTag, VLANTag) = (unused, unused, unused, unused)
    private var stored: UInt8 = 0

    public init() {}

    /// At most `capacity` tags; more is a programming error.
    public init(_ tags: some Sequence<VLANTag>) {
        for tag in tags { append(tag) }
    }

    public init(arrayLiteral tags: VLANTag...) {
        self.init(tags)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(stored) }
    public var count: Int { Int(stored) }
    public var isEmpty: Bool { stored == 0 }
    public var isFull: Bool { Int(stored) == Self.capacity }

    public subscript(position: Int) -> VLANTag {
        precondition(position >= 0 && position < count, "VLAN tag index out of range")
        switch position {
        case 0: return slots.0
        case 1: return slots.1
        case 2: return slots.2
        default: return slots.3
        }
    }

    /// Adds an inner tag; the stack must not be full.
    public mutating func append(_ tag: VLANTag) {
        precondition(!isFull, "more than \(Self.capacity) VLAN tags")
        switch stored {
        case 0: slots.0 = tag
        case 1: slots.1 = tag
        case 2: slots.2 = tag
        default: slots.3 = tag
        }
        stored += 1
    }

    public static func == (lhs: VLANTags, rhs: VLANTags) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(stored)
        for tag in self { hasher.combine(tag) }
    }

    public var description: String { Array(self).description }
}
