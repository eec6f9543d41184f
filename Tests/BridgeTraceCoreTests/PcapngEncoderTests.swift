import Testing

@testable import BridgeTraceCore

/// Reads pcapng blocks back (little-endian, as PcapngEncoder writes them).
private struct PcapngBlock {
    var type: UInt32
    var body: [UInt8]

    static func split(_ bytes: [UInt8]) -> [PcapngBlock] {
        var blocks: [PcapngBlock] = []
        var offset = 0
        while offset < bytes.count {
            let type = u32(bytes, offset)
            let length = Int(u32(bytes, offset + 4))
            #expect(length % 4 == 0, "block length \(length) is not 32-bit aligned")
            #expect(u32(bytes, offset + length - 4) == UInt32(length), "trailing length differs")
            blocks.append(PcapngBlock(type: type, body: Array(bytes[(offset + 8)..<(offset + length - 4)])))
            offset += length
        }
        #expect(offset == bytes.count)
        return blocks
    }

    /// Options from `start` in the body: code → value (unpadded).
    func options(from start: Int) -> [UInt16: [UInt8]] {
        var result: [UInt16: [UInt8]] = [:]
        var offset = start
        while offset + 4 <= body.count {
            let code = u16(body, offset)
            let length = Int(u16(body, offset + 2))
            if code == 0 { break }
            result[code] = Array(body[(offset + 4)..<(offset + 4 + length)])
            offset += 4 + (length + 3) / 4 * 4
        }
        return result
    }
}

private func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
private func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(u16(b, o)) | UInt32(u16(b, o + 2)) << 16 }

@Suite struct PcapngEncoderTests {
    func frame(port: String, ifindex: Int32, direction: Direction, size: Int, wire: Int? = nil) -> CapturedFrame {
        CapturedFrame(monotonicNs: 0, ifindex: ifindex, port: port, direction: direction, length: wire ?? size,
                      bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test func sectionHeaderNamesTheApplication() {
        let bytes = PcapngEncoder(snaplen: 132).header()
        #expect(Array(bytes[0..<4]) == [0x0A, 0x0D, 0x0D, 0x0A])
        #expect(bytes.count == 48) // 12 framing + 16 fixed + (4 + 12 "bridgetrace" padded) + 4 end of options
        let blocks = PcapngBlock.split(bytes)
        #expect(blocks.count == 1)
        let body = blocks[0].body
        #expect(u32(body, 0) == 0x1A2B_3C4D)
        #expect(u16(body, 4) == 1 && u16(body, 6) == 0)
        #expect(Array(body[8..<16]) == Array(repeating: 0xff, count: 8)) // section length unknown
        #expect(blocks[0].options(from: 16)[4] == Array("bridgetrace".utf8))
        #expect(Array(body.suffix(4)) == [0, 0, 0, 0]) // opt_endofopt
    }

    @Test func interfacesAppearBeforeTheirFirstPacket() {
        var encoder = PcapngEncoder(snaplen: 132, bridge: "br0")
        let a1 = frame(port: "tap-vm1", ifindex: 7, direction: .rx, size: 42)
        let a2 = frame(port: "tap-vm1", ifindex: 7, direction: .tx, size: 98)
        let b1 = frame(port: "eth0", ifindex: 2, direction: .tx, size: 61, wire: 1514)
        var bytes: [UInt8] = []
        bytes += encoder.encode(a1, wallClockNs: 1_795_262_400_123_456_789)
        bytes += encoder.encode(a2, wallClockNs: 1_795_262_400_223_456_789)
        bytes += encoder.encode(b1, wallClockNs: 1_795_262_400_323_456_789)
        bytes += encoder.encode(a1, wallClockNs: 1_795_262_400_423_456_789)
        let blocks = PcapngBlock.split(bytes)
        #expect(blocks.map(\.type) == [1, 6, 6, 1, 6, 6])
        #expect(encoder.interfaceCount == 2)

        let idb = blocks[0]
        #expect(u16(idb.body, 0) == 1)       // LINKTYPE_ETHERNET
        #expect(u16(idb.body, 2) == 0)
        #expect(u32(idb.body, 4) == 132)
        let options = idb.options(from: 8)
        #expect(options[2] == Array("tap-vm1".utf8))
        #expect(options[3] == Array("bridge br0 port tap-vm1, ifindex 7".utf8))
        #expect(options[9] == [9])
        #expect(blocks[3].options(from: 8)[2] == Array("eth0".utf8))

        let packets = [blocks[1], blocks[2], blocks[4], blocks[5]]
        #expect(packets.map { u32($0.body, 0) } == [0, 0, 1, 0])          // interface ids
        #expect(packets.map { u32($0.body, 12) } == [42, 98, 61, 42])     // captured
        #expect(packets.map { u32($0.body, 16) } == [42, 98, 1514, 42])   // original
        let flags = zip(packets, [42, 98, 61, 42]).map { packet, size in
            packet.options(from: 20 + (size + 3) / 4 * 4)[2].map { u32($0, 0) }
        }
        #expect(flags == [1, 2, 2, 1]) // 01 inbound (rx), 10 outbound (tx)

        // 64-bit nanoseconds, high word first.
        let ts = UInt64(u32(packets[0].body, 4)) << 32 | UInt64(u32(packets[0].body, 8))
        #expect(ts == 1_795_262_400_123_456_789)
        // 42 bytes padded to 44: 12 framing + 20 fixed + 44 + 8 epb_flags + 4 end of options.
        #expect(u32(bytes, 0 + Int(u32(bytes, 4)) + 4) == 88)
        #expect(Array(packets[0].body[(20 + 42)..<(20 + 44)]) == [0, 0])
        #expect(Array(packets[0].body[20..<(20 + 42)]) == a1.bytes)
    }

    @Test func aRenamedOrReplacedPortGetsItsOwnInterface() {
        var encoder = PcapngEncoder(snaplen: 0)
        _ = encoder.encode(frame(port: "tap-vm1", ifindex: 7, direction: .rx, size: 60), wallClockNs: 1)
        _ = encoder.encode(frame(port: "tap-vm1", ifindex: 9, direction: .rx, size: 60), wallClockNs: 2)
        _ = encoder.encode(frame(port: "tap-vm2", ifindex: 9, direction: .rx, size: 60), wallClockNs: 3)
        _ = encoder.encode(frame(port: "tap-vm1", ifindex: 7, direction: .rx, size: 60), wallClockNs: 4)
        #expect(encoder.interfaceCount == 3)
    }

    @Test func originalLengthIsNeverBelowCapturedLength() {
        let block = PcapngEncoder.enhancedPacketBlock(interfaceID: 0, timestampNs: 0, bytes: [1, 2, 3, 4, 5],
                                                      originalLength: 3, direction: .tx)
        let parsed = PcapngBlock.split(block)[0]
        #expect(u32(parsed.body, 12) == 5 && u32(parsed.body, 16) == 5)
        #expect(Array(parsed.body[20..<28]) == [1, 2, 3, 4, 5, 0, 0, 0])
    }

    @Test func emptyFrameIsAValidBlock() {
        let block = PcapngEncoder.enhancedPacketBlock(interfaceID: 3, timestampNs: 5, bytes: [],
                                                      originalLength: 0, direction: .rx)
        #expect(block.count == 12 + 20 + 8 + 4)
        #expect(PcapngBlock.split(block)[0].options(from: 20)[2] == [1, 0, 0, 0])
    }
}
