import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceBench

/// Which generator the probe picks and how it says why, from attempts built by hand.
@Suite struct GeneratorSelectionTests {
    @Test func theFirstThatWorksFastestFirstAndWhatWasRefused() throws {
        let selection = try GeneratorSelection(choice: .auto, attempts: [
            .init(kind: .xdpLiveFrames, refusal: "refused by this kernel: Operation not permitted (EPERM)"),
            .init(kind: .afXDP, refusal: nil), .init(kind: .afPacket, refusal: nil),
        ])
        #expect(selection.kind == .afXDP)
        #expect(selection.degraded)
        #expect(selection.usable == [.afXDP, .afPacket])
        #expect(selection.line == "generator: af-xdp (live XDP frames refused by this kernel: Operation not permitted (EPERM))")
        let json = String(decoding: try JSONEncoder().encode(selection), as: UTF8.self)
        #expect(json.contains("\"kind\":\"af-xdp\""))

        let fastest = try GeneratorSelection(choice: .auto, attempts: GeneratorKind.allCases.map { .init(kind: $0, refusal: nil) })
        #expect(fastest.kind == .xdpLiveFrames)
        #expect(!fastest.degraded)
    }

    @Test func nothingWorksIsOneLineThatSaysWhatToDo() {
        #expect {
            try GeneratorSelection(choice: .xdp, attempts: [.init(kind: .xdpLiveFrames, refusal: "refused by this kernel: EPERM")])
        } throws: { error in
            (error as? UserError)?.message == "--generator xdp: live XDP frames refused by this kernel: EPERM; use --generator auto"
        }
        #expect(throws: UserError.self) {
            try GeneratorSelection(choice: .auto, attempts: GeneratorKind.allCases.map { .init(kind: $0, refusal: "unavailable") })
        }
    }
}
