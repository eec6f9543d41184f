#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable byte buffer for building text lines: the trace formatters write whole lines
/// into one, with no intermediate Strings and no Foundation. Plain memory rather than an
/// Array, so that each append is a capacity check and a store (an Array append also checks
/// uniqueness), and fixed text is one memcpy.
///
/// Noncopyable: it owns its memory and frees it when it goes away.
struct ASCIIBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = Swift.max(capacity, 16)
        guard let memory = malloc(self.capacity) else { fatalError("out of memory") }
        base = memory.assumingMemoryBound(to: UInt8.self)
    }

    deinit {
        free(base)
    }

    /// What `body` writes, as a String.
    static func string(capacity: Int = 64, _ body: (inout ASCIIBuffer) -> Void) -> String {
        var buffer = ASCIIBuffer(capacity: capacity)
        body(&buffer)
        return buffer.string
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Empties the buffer, keeping its memory.
    mutating func removeAll() { count = 0 }
    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Makes room for `extra` more bytes. Writers that bound a whole line reserve once and
    /// then store through `end` (TraceJSONLine); appends made meanwhile keep that room.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(extra) }
    }

    /// Where the next byte goes; setting it takes what was stored up to there (within
    /// the reserved room).
    var end: UnsafeMutablePointer<UInt8> {
        @inline(__always) get { base + count }
        @inline(__always) set { count = newValue - base }
    }

    private mutating func grow(_ extra: Int) {
        var newCapacity = capacity * 2
        while newCapacity - count < extra { newCapacity *= 2 }
        guard let memory = realloc(base, newCapacity) else { fatalError("out of memory") }
        base = memory.assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeRawPointer, count length: Int) {
        reserve(length)
        UnsafeMutableRawPointer(base + count).copyMemory(from: bytes, byteCount: length)
        count += length
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress else { return }
        append(UnsafeRawPointer(start), count: bytes.count)
    }

    @inline(__always)
    mutating func appendASCII(_ text: StaticString) {
        if text.hasPointerRepresentation {
            append(UnsafeRawPointer(text.utf8Start), count: text.utf8CodeUnitCount)
        } else {
            text.withUTF8Buffer { append($0) }
        }
    }

    /// Any String as UTF-8, unescaped.
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    mutating func appendDecimal(_ value: UInt64) {
        // Up to 20 digits, two at a time from the end into the free space, then moved into
        // place.
        reserve(20)
        let pairs = decimalPairs.utf8Start
        let end = base + count + 20
        var cursor = end
        var rest = value
        while rest >= 100 {
            let pair = Int(rest % 100) * 2
            rest /= 100
            cursor -= 2
            cursor[0] = pairs[pair]
            cursor[1] = pairs[pair + 1]
        }
        if rest >= 10 {
            let pair = Int(rest) * 2
            cursor -= 2
            cursor[0] = pairs[pair]
            cursor[1] = pairs[pair + 1]
        } else {
            cursor -= 1
            cursor[0] = UInt8(truncatingIfNeeded: rest) &+ 0x30
        }
        let length = end - cursor
        (base + count).update(from: cursor, count: length)
        count += length
    }

    mutating func appendDecimal(_ value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
            appendDecimal(value.magnitude)
        } else {
            appendDecimal(UInt64(value))
        }
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int) { appendDecimal(Int64(value)) }

    /// Zero-padded to `width` digits (wider values are written whole).
    mutating func appendDecimal(_ value: UInt64, width: Int) {
        var digits = 1
        var rest = value / 10
        while rest != 0 { digits += 1; rest /= 10 }
        var pad = width - digits
        while pad > 0 { append(0x30); pad -= 1 }
        appendDecimal(value)
    }

    /// Lowercase hex, zero-padded to `digits` (wider values are written whole).
    mutating func appendHex(_ value: UInt64, digits: Int) {
        var width = 1
        var probe = value >> 4
        while probe != 0 { width += 1; probe >>= 4 }
        width = Swift.max(width, digits)
        var shift = (width - 1) * 4
        while shift >= 0 {
            append(hexDigit(UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xf))
            shift -= 4
        }
    }

    /// Lowercase hex without leading zeros: one group of an IPv6 address.
    mutating func appendHex(_ value: UInt16) {
        appendHex(UInt64(value), digits: 1)
    }

    @inline(__always)
    /// `aa:bb:cc:dd:ee:ff`: one capacity check for all 17 bytes (trace writes two to four
    /// MACs per event; byte-wise appends made this the largest cost of a JSON line).
    mutating func appendMAC48(_ value: UInt64) {
        reserve(17)
        let out = base + count
        for index in 0..<6 {
            let byte = UInt8(truncatingIfNeeded: value >> (40 - 8 * UInt64(index)))
            out[index * 3] = hexDigit(byte >> 4)
            out[index * 3 + 1] = hexDigit(byte & 0xf)
            if index < 5 { out[index * 3 + 2] = UInt8(ascii: ":") }
        }
        count += 17
    }

    mutating func appendHexByte(_ byte: UInt8) {
        reserve(2)
        base[count] = hexDigit(byte >> 4)
        base[count + 1] = hexDigit(byte & 0xf)
        count += 2
    }

    /// `"0x0800"`-style, four digits.
    mutating func appendHex16(_ value: UInt16) {
        appendASCII("0x")
        appendHexByte(UInt8(truncatingIfNeeded: value >> 8))
        appendHexByte(UInt8(truncatingIfNeeded: value))
    }
}

/// "00" through "99": two decimal digits per lookup.
let decimalPairs: StaticString = """
    00010203040506070809101112131415161718192021222324252627282930313233343536373839\
    40414243444546474849505152535455565758596061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899
    """

@inline(__always)
private func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble  // 0x57 + 10 = "a"
}
