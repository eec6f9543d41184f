/// Where a JSON shape is written to, one token at a time: `TraceJSON.write` into a
/// `JSONValue` tree (`JSONValueBuilder`), the reference for the drain's byte writer
/// (TraceJSONLine), which tests compare against it.
protocol JSONSink: ~Copyable {
    mutating func beginObject()
    mutating func endObject()
    mutating func beginArray()
    mutating func endArray()
    /// The next member's key. Keys are ASCII without characters that need escaping.
    mutating func key(_ key: StaticString)
    mutating func string(_ value: String)
    mutating func string(_ value: StaticString)
    mutating func int(_ value: Int64)
    mutating func uint(_ value: UInt64)
    mutating func bool(_ value: Bool)
    mutating func null()
    // Values that are strings in JSON, written without making a String first.
    mutating func mac(_ value: MACAddress)
    mutating func ip(_ value: IPAddress)
    /// `"0x0800"`.
    mutating func hex16(_ value: UInt16)
    /// `"0x1234abcd"`.
    mutating func hex32(_ value: UInt32)
    mutating func tcpFlags(_ value: UInt16)
}

extension JSONSink where Self: ~Copyable {
    mutating func member(_ key: StaticString, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }

    mutating func member(_ key: StaticString, mac value: MACAddress?) {
        self.key(key)
        if let value { mac(value) } else { null() }
    }

    mutating func member(_ key: StaticString, ip value: IPAddress?) {
        self.key(key)
        if let value { ip(value) } else { null() }
    }

    mutating func member(_ key: StaticString, ipv4 value: IPv4Address?) {
        member(key, ip: value.map(IPAddress.v4))
    }

    mutating func member(_ key: StaticString, uint value: UInt64?) {
        self.key(key)
        if let value { uint(value) } else { null() }
    }
}
