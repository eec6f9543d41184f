/// Compact JSON straight into bytes, with the separators `JSONValue.rendered()` uses
/// (`", "` and `": "`), so both paths print identical lines.
struct JSONByteWriter: JSONSink, ~Copyable {
    var buffer: ASCIIBuffer
    /// A value was just completed in the current container: the next key or element needs
    /// a separator. One flag is enough: opening a container or writing a key clears it.
    private var needsSeparator = false

    init(capacity: Int) {
        buffer = ASCIIBuffer(capacity: capacity)
    }

    /// Before the next of several top-level values written one after the other (lines
    /// of a batch): no separator in front of it.
    mutating func startValue() {
        needsSeparator = false
    }

    @inline(__always)
    private mutating func separate() {
        if needsSeparator { buffer.appendASCII(", ") }
    }

    @inline(__always)
    private mutating func quoted(_ body: (inout ASCIIBuffer) -> Void) {
        separate()
        buffer.append(UInt8(ascii: "\""))
        body(&buffer)
        buffer.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    mutating func beginObject() {
        separate()
        buffer.append(UInt8(ascii: "{"))
        needsSeparator = false
    }

    mutating func endObject() {
        buffer.append(UInt8(ascii: "}"))
        needsSeparator = true
    }

    mutating func beginArray() {
        separate()
        buffer.append(UInt8(ascii: "["))
        needsSeparator = false
    }

    mutating func endArray() {
        buffer.append(UInt8(ascii: "]"))
        needsSeparator = true
    }

    @inline(__always)
    mutating func key(_ key: StaticString) {
        separate()
        buffer.append(UInt8(ascii: "\""))
        buffer.appendASCII(key)
        buffer.appendASCII("\": ")
        needsSeparator = false
    }

    mutating func string(_ value: String) {
        separate()
        buffer.appendJSONQuoted(value)
        needsSeparator = true
    }

    mutating func string(_ value: StaticString) {
        quoted { $0.appendASCII(value) }
    }

    mutating func int(_ value: Int64) {
        separate()
        buffer.appendDecimal(value)
        needsSeparator = true
    }

    mutating func uint(_ value: UInt64) {
        separate()
        buffer.appendDecimal(value)
        needsSeparator = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        buffer.appendASCII(value ? "true" : "false")
        needsSeparator = true
    }

    @inline(__always)
    mutating func null() {
        separate()
        buffer.appendASCII("null")
        needsSeparator = true
    }

    mutating func mac(_ value: MACAddress) { quoted { $0.appendMAC(value) } }
    mutating func ip(_ value: IPAddress) { quoted { $0.appendIP(value) } }
    mutating func hex16(_ value: UInt16) { quoted { $0.appendHex16(value) } }

    mutating func hex32(_ value: UInt32) {
        quoted {
            $0.appendASCII("0x")
            $0.appendHex(UInt64(value), digits: 8)
        }
    }

    mutating func tcpFlags(_ value: UInt16) { quoted { TraceText.appendTCPFlags(value, to: &$0) } }
}
