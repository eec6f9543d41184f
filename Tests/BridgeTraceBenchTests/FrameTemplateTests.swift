import BridgeTraceCore
import Testing

@testable import BridgeTraceBench

@Suite struct FrameTemplateTests {
    let src: [UInt8] = [0x52, 0x54, 0, 0xbe, 0, 0]
    let dst: [UInt8] = [0x52, 0x54, 0, 0xbe, 1, 1]

    @Test func smallestFrameIsSixtyBytesOnTheDevice() throws {
        let frame = try FrameTemplate(size: 64, sourceMAC: src, destinationMAC: dst)
        #expect(frame.bytes.count == 60)
        #expect(frame.ipLength == 46)
        // 14 bytes of stamp must fit after Ethernet, IPv4 and UDP, even behind a tag.
        let tagged = try FrameTemplate(size: 64, vlan: 100, sourceMAC: src, destinationMAC: dst)
        #expect(tagged.bytes.count - tagged.stampOffset >= 14)
        #expect(Array(tagged.bytes[12..<16]) == [0x81, 0x00, 0x00, 100])
    }

    @Test func ipv4HeaderChecksumVerifies() throws {
        let frame = try FrameTemplate(size: 128, sourceMAC: src, destinationMAC: dst).bytes
        #expect(FrameTemplate.ipv4Checksum(frame[14..<34]) == 0)
    }

    @Test func rejectsSizesOutsideTheRange() {
        #expect(throws: UserError.self) { try FrameTemplate(size: 63, sourceMAC: src, destinationMAC: dst) }
        #expect(throws: UserError.self) { try FrameTemplate(size: 1519, sourceMAC: src, destinationMAC: dst) }
        #expect(throws: UserError.self) { try FrameTemplate(size: 64, vlan: 4095, sourceMAC: src, destinationMAC: dst) }
        #expect(throws: Never.self) { try FrameTemplate(size: 9000, sourceMAC: src, destinationMAC: dst) }
    }
}
