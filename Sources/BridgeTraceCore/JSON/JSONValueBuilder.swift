/// Builds a `JSONValue` tree from `JSONSink` tokens.
struct JSONValueBuilder: JSONSink {
    /// Open containers, innermost last. Members and items are kept apart from the enum so
    /// that appending never copies an array.
    private var members: [[(String, JSONValue)]] = []
    private var items: [[JSONValue]] = []
    private var isObject: [Bool] = []
    private var pendingKey = ""
    /// The key each open container has in its parent.
    private var containerKeys: [String] = []
    /// The finished outermost value.
    private(set) var result: JSONValue = .null

    private mutating func add(_ value: JSONValue) {
        guard let object = isObject.last else {
            result = value
            return
        }
        if object {
            members[members.count - 1].append((pendingKey, value))
        } else {
            items[items.count - 1].append(value)
        }
    }

    mutating func beginObject() {
        containerKeys.append(pendingKey)
        isObject.append(true)
        members.append([])
    }

    mutating func endObject() {
        guard isObject.popLast() == true, let object = members.popLast() else { return }
        pendingKey = containerKeys.popLast() ?? ""
        add(.object(object))
    }

    mutating func beginArray() {
        containerKeys.append(pendingKey)
        isObject.append(false)
        items.append([])
    }

    mutating func endArray() {
        guard isObject.popLast() == false, let array = items.popLast() else { return }
        pendingKey = containerKeys.popLast() ?? ""
        add(.array(array))
    }

    mutating func key(_ key: StaticString) { pendingKey = key.description }
    mutating func string(_ value: String) { add(.string(value)) }
    mutating func string(_ value: StaticString) { add(.string(value.description)) }
    mutating func int(_ value: Int64) { add(.int(value)) }
    mutating func uint(_ value: UInt64) { add(.uint(value)) }
    mutating func bool(_ value: Bool) { add(.bool(value)) }
    mutating func null() { add(.null) }
    mutating func mac(_ value: MACAddress) { add(.string(value.description)) }
    mutating func ip(_ value: IPAddress) { add(.string(value.description)) }
    mutating func hex16(_ value: UInt16) { add(.string(ASCIIBuffer.string { $0.appendHex16(value) })) }

    mutating func hex32(_ value: UInt32) {
        add(.string(ASCIIBuffer.string {
            $0.appendASCII("0x")
            $0.appendHex(UInt64(value), digits: 8)
        }))
    }

    mutating func tcpFlags(_ value: UInt16) {
        add(.string(ASCIIBuffer.string { TraceText.appendTCPFlags(value, to: &$0) }))
    }
}
