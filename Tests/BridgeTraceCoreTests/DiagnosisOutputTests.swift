import Foundation
import Testing

@testable import BridgeTraceCore

@Suite struct DiagnosisOutputTests {
    let finding = Finding(cause: .netfilterDrop, port: "uplink", severity: .error,
                          summary: "ICMP echo requests from 198.18.0.11 enter at vm1 and are dropped",
                          evidence: ["5 drops NETFILTER_DROP in nft_do_chain on uplink"],
                          fix: "nft -a list ruleset bridge")

    @Test func jsonHasTheContractsShapeAndOrder() throws {
        let text = DiagnoseJSON.value(bridge: "br0", findings: [finding], durationSeconds: 10, frames: 12, drops: 5)
            .rendered()
        #expect(text.hasPrefix("{\"bridge\": \"br0\", \"healthy\": false, \"findings\": [{\"cause\": \"netfilter_drop\", "
            + "\"port\": \"uplink\", \"severity\": \"error\", \"summary\": "))
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let findings = object["findings"] as! [[String: Any]]
        #expect(findings.first?["evidence"] as? [String] == ["5 drops NETFILTER_DROP in nft_do_chain on uplink"])
        #expect(findings.first?["fix"] as? String == "nft -a list ruleset bridge")
        #expect(object["drops"] as? Int == 5)
    }

    @Test func aFindingWithNoPortIsJSONNullAndSaysSoInText() {
        var flooded = finding
        flooded.cause = .icmpUnanswered
        flooded.port = nil
        let json = DiagnoseJSON.value(bridge: "br0", findings: [flooded], lostEvents: 7, collectorOverflow: 5).rendered()
        #expect(json.contains("\"cause\": \"icmp_unanswered\", \"port\": null, "))
        #expect(json.hasSuffix("\"lost_events\": 7, \"collector_overflow\": 5, \"events_not_examined\": 12}"))
        let text = DiagnoseText.render(bridge: "br0", findings: [flooded], durationSeconds: 8, frames: 3, drops: 0,
                                       lostEvents: 7, collectorOverflow: 5)
        #expect(text.contains("ERROR icmp_unanswered at an unknown port\n"))
        #expect(text.contains("\n12 events not examined: 7 lost in the ring buffers (the reader fell behind), "
            + "5 over the collector's limit; findings that rest on a missing frame are less certain\n"))
    }

    @Test func healthyJSON() {
        #expect(DiagnoseJSON.value(bridge: "br0", findings: []).rendered()
            == "{\"bridge\": \"br0\", \"healthy\": true, \"findings\": []}")
    }

    @Test func textForPeople() {
        let text = DiagnoseText.render(bridge: "br0", findings: [finding], durationSeconds: 10, frames: 12, drops: 5)
        #expect(text == """
            bridgetrace diagnose br0: 1 problem in 10 s (12 frames, 5 drops)

            ERROR netfilter_drop at uplink
              ICMP echo requests from 198.18.0.11 enter at vm1 and are dropped
              evidence:
                - 5 drops NETFILTER_DROP in nft_do_chain on uplink
              fix: nft -a list ruleset bridge

            """)
        #expect(DiagnoseText.render(bridge: "br0", findings: [], durationSeconds: 2.5, frames: 1, drops: 0)
            == "bridgetrace diagnose br0: healthy: no problems seen in 2.5 s (1 frame, 0 drops)\n")
    }
}
