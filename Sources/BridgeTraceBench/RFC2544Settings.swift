/// How `--rfc2544` measures (RFC 2544 section 26, adapted to a machine without a line
/// rate: "100% load" is the most the generator offers, measured at the start of each
/// repetition).
public struct RFC2544Settings: Sendable {
    /// The frame sizes RFC 2544 lists for Ethernet.
    public static let standardFrameSizes = [64, 128, 256, 512, 1024, 1280, 1518]

    /// Seconds per trial (the RFC asks 60 s; a shared VM drifts within a minute, so many
    /// short repeated trials tell more).
    public var trialDuration: Double
    /// Repetitions of every procedure; the spread between them is reported.
    public var repetitions: Int
    /// The search stops when its bounds are this close, as a fraction of the maximum.
    public var resolution: Double = 0.01
    public var maxSearchSteps = 14
    /// Loss a PDR trial may have.
    public var pdrLoss: Double = 0.005
    /// Latency is measured at these fractions of the NDR, and at `lowRatePPS`.
    public var latencyLoads: [Double] = [0.1, 0.5, 0.9]
    public var lowRatePPS: Double = 1000
    /// And at this fraction of the reference DUT's NDR (the Linux bridge's), the same
    /// rate for every DUT of the run.
    public var referenceLatencyLoad: Double = 0.5
    /// Frame loss rate at these fractions of the maximum, from the top, until two
    /// successive loads lose nothing.
    public var lossLoads: [Double] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    /// The longest back-to-back burst tried: this many seconds at the maximum rate.
    public var longestBurstSeconds: Double = 1

    public init(trialDuration: Double = 1, repetitions: Int = 3) {
        self.trialDuration = trialDuration
        self.repetitions = repetitions
    }
}
