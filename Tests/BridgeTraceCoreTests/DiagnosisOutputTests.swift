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
