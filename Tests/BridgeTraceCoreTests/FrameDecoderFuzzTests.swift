import Foundation
import Testing

@testable import BridgeTraceCore

/// SplitMix64: deterministic, so a failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite struct FrameDecoderFuzzTests {
    static let etherTypes: [UInt16] = [0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0026, 0x88cc]

    /// A random frame: random bytes of random length, often with an interesting
    /// EtherType (and IP version/protocol) so the decoder gets past layer 2.
    static func randomFrame(_ rng: inout SeededGenerator) -> [UInt8] {
        let length = Int(rng.next() % 301)
        var bytes = [UInt8](repeating: 0, count: length)
        var word: UInt64 = 0
        for index in 0..<length {
            if index % 8 == 0 { word = rng.next() }
            bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(8 * (index % 8)))
        }
        if length >= 14 && Bool.random(using: &rng) {
            var offset = 12
            var etherType = etherTypes.randomElement(using: &rng)!
            while VLANTag.isTPID(etherType) && offset + 4 < length && Int.random(in: 0..<4, using: &rng) > 0 {
                bytes[offset] = UInt8(etherType >> 8)
                bytes[offset + 1] = UInt8(etherType & 0xff)
                offset += 4
                etherType = etherTypes.randomElement(using: &rng)!
            }
            if offset + 2 <= length {
                bytes[offset] = UInt8(etherType >> 8)
                bytes[offset + 1] = UInt8(etherType & 0xff)
            }
            let l3 = offset + 2
            if etherType == 0x0800 && l3 + 10 <= length {
                bytes[l3] = 0x40 | UInt8.random(in: 0...15, using: &rng)
                bytes[l3 + 9] = [1, 6, 17].randomElement(using: &rng)!
            } else if etherType == 0x86dd && l3 + 7 <= length {
                bytes[l3 + 6] = [0, 43, 44, 51, 58, 60, 17].randomElement(using: &rng)!
            }
        }
        return bytes
    }

    /// A valid fixture, cut at a random length and with a few bytes changed.
    static func mutatedFixture(_ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = Fixture.all.randomElement(using: &rng)!.1
        bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
        if !bytes.isEmpty {
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }

    @Test func hundredThousandFramesNeverTrap() throws {
        var rng = SeededGenerator(state: 0xb41d_6e7a_ce00_0001)
        var kinds = [EventKind: Int]()
        var truncated = 0
        let count = 100_000
        var textBuffer = [UInt8]()
        var jsonBuffer = [UInt8]()
        var violations = 0
        let ports = (0..<7).map { "p\($0)" }
        for index in 0..<count {
            let bytes = index % 2 == 0 ? Self.randomFrame(&rng) : Self.mutatedFixture(&rng)
            let event = TraceEvent.make(CapturedFrame(
                monotonicNs: rng.next(), ifindex: Int32(truncatingIfNeeded: rng.next()), port: ports[index % 7],
                direction: index % 3 == 0 ? .tx : .rx, length: bytes.count + Int.random(in: 0...100, using: &rng),
                bytes: bytes))
            let offset = Int64(bitPattern: rng.next())
            textBuffer.removeAll(keepingCapacity: true)
            jsonBuffer.removeAll(keepingCapacity: true)
            TraceText.append(event, wallClockOffsetNs: offset, to: &textBuffer)
            TraceJSON.append(event, wallClockOffsetNs: offset, to: &jsonBuffer)
            kinds[event.kind, default: 0] += 1
            if event.decoded.truncated { truncated += 1 }
            // #expect is costly in a loop this long: count, then expect once.
            if event.kind == .drop || (bytes.count < 14 && !event.decoded.truncated) { violations += 1 }
            // Check a sample thoroughly: valid JSON, and the same text as the JSONValue tree.
            if index % 97 == 0 {
                let object = try JSONSerialization.jsonObject(with: Data(jsonBuffer)) as? [String: Any]
                #expect(object?["kind"] as? String == event.kind.rawValue)
                #expect(String(decoding: jsonBuffer, as: UTF8.self)
                        == TraceJSON.value(event, wallClockOffsetNs: offset).rendered())
            }
        }
        #expect(violations == 0)
        // The generator reaches every kind the decoder can produce.
        for kind in EventKind.allCases where kind != .drop {
            #expect(kinds[kind, default: 0] > 100, "\(kind): \(kinds[kind, default: 0])")
        }
        #expect(truncated > 1000)
    }
}
