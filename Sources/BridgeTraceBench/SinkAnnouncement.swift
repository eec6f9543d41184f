import BridgeTraceCore
import Foundation

/// A few frames from the sink's MAC towards the generator, so that a learning switch
/// without static entries (Open vSwitch's NORMAL flow) knows which port the sink is on and
/// forwards to it from the first measured frame, instead of flooding unknown unicast. The
/// Linux bridge and bridgetrace's switch get a static FDB entry instead. Sent with the AF_PACKET generator, in the VLAN of the
/// measured frames, since learning is per VLAN.
enum SinkAnnouncement {
    static func send(from sink: Endpoint, links: LinkSettings, frames: UInt64 = 3) throws {
        let template = try FrameTemplate(size: FrameTemplate.minimumSize, vlan: links.vlan,
                                         sourceMAC: LinkSettings.sinkMACBytes,
                                         destinationMAC: LinkSettings.generatorMACBytes)
        let sender = try PacketSocketGenerator(interface: sink.interface, namespace: sink.namespace)
        let job = GeneratorJob(template: template, trial: 0, flows: 1, ratePPS: 1000, count: frames, duration: 0.1)
        let outcome = try sender.run(job) { _ in true }
        guard outcome.sent == frames else {
            throw UserError("could not announce the sink's MAC from \(sink.interface): \(outcome.sent) of \(frames) frames sent")
        }
    }
}
