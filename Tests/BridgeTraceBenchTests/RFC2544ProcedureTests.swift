import Testing

@testable import BridgeTraceBench

/// The RFC 2544 logic against a model DUT with known answers, so the search is checked
/// without root and without noise.
@Suite struct RFC2544ProcedureTests {
    /// Forwards up to `capacity` pps and drops the excess; buffers `queue` frames of a burst.
    struct ModelDUT {
        var capacity = 1_000_000.0
        var generatorMax = 2_000_000.0
        var queue: UInt64 = 50_000
        var trials: [TrialSpec] = []

        mutating func measure(_ spec: TrialSpec) -> TrialResult {
            trials.append(spec)
            let rate = spec.ratePPS ?? generatorMax
            let sent = spec.count ?? UInt64(rate * spec.duration)
            var lost: UInt64
            if spec.count != nil && spec.ratePPS == nil {
                lost = sent > queue ? sent - queue : 0
            } else {
                lost = rate > capacity ? UInt64(Double(sent) * (1 - capacity / rate)) : 0
            }
            let received = sent - lost
            return TrialResult(
                dut: "model", frameSize: spec.frameSize, tracer: .none, generator: .xdpLiveFrames, batch: 64,
                targetPPS: spec.ratePPS, sent: sent, received: received, lost: Int64(lost),
                lossRatio: Double(lost) / Double(max(sent, 1)), reordered: 0, stale: 0, txPPS: rate,
                rxPPS: Double(received) / spec.duration, rxGbps: 0, activeSeconds: spec.duration,
                wallSeconds: spec.duration, latency: nil)
        }
    }

    final class Box: @unchecked Sendable {
        var model = ModelDUT()
    }

    func run(_ model: ModelDUT, repetitions: Int = 1) throws -> (RFC2544Result, [TrialSpec]) {
        let box = Box()
        box.model = model
        let settings = RFC2544Settings(trialDuration: 1, repetitions: repetitions)
        let procedure = RFC2544Procedure(settings: settings, frameSize: 64) { box.model.measure($0) }
        return (try procedure.run(dut: "model"), box.model.trials)
    }

    @Test func findsNoDropAndPartialDropRates() throws {
        let (result, _) = try run(ModelDUT())
        let ndr = try #require(result.throughput.ndrPPS?.median)
        let pdr = try #require(result.throughput.pdrPPS?.median)
        // Within the search resolution, 1% of the 2 Mpps maximum.
        #expect(ndr <= 1_000_000 && ndr >= 980_000, "NDR \(ndr)")
        #expect(pdr >= ndr && pdr <= 1_005_100 && pdr >= 985_000, "PDR \(pdr)")
        #expect(!result.throughput.limitedByGenerator)
        #expect(result.maximumPPS?.median == 2_000_000)
    }

    @Test func frameLossStopsAfterTwoLosslessLoads() throws {
        let (result, _) = try run(ModelDUT())
        let loads = result.frameLoss.map(\.loadPercent)
        // 100..60% lose, 50% and 40% do not: the RFC stops there.
        #expect(loads == [100, 90, 80, 70, 60, 50, 40])
        let full = try #require(result.frameLoss.first?.lossRatio?.median)
        #expect(abs(full - 0.5) < 0.01)
        #expect(result.frameLoss.last?.lossRatio?.median == 0)
    }

    @Test func backToBackFindsTheQueueDepth() throws {
        let (result, _) = try run(ModelDUT())
        let burst = try #require(result.backToBack?.frames?.median)
        #expect(burst <= 50_000 && burst >= 47_000, "burst \(burst)")
        #expect(result.backToBack?.limitedByLongestTried == false)
    }

    /// A veth queue holds 256 frames: small answers must be found as precisely as big ones.
    @Test func backToBackFindsAShallowQueue() throws {
        var model = ModelDUT()
        model.queue = 300
        let (result, _) = try run(model)
        let burst = try #require(result.backToBack?.frames?.median)
        #expect(burst <= 300 && burst >= 290, "burst \(burst)")
    }

    @Test func latencyAtFractionsOfNDRAndALowRate() throws {
        let (result, trials) = try run(ModelDUT())
        #expect(result.latency.map(\.label) == ["low rate", "10% NDR", "50% NDR", "90% NDR"])
        let ndr = try #require(result.throughput.ndrPPS?.median)
        let fifty = try #require(result.latency.first { $0.label == "50% NDR" })
        #expect(abs(fifty.targetPPS - ndr / 2) < 1)
        #expect(trials.contains { $0.ratePPS == 1000 })
    }

    @Test func aDUTThatNeverDropsIsGeneratorBound() throws {
        var model = ModelDUT()
        model.capacity = 10_000_000
        let (result, _) = try run(model, repetitions: 2)
        #expect(result.throughput.limitedByGenerator)
        #expect(result.throughput.ndrPPS?.median == 2_000_000)
        #expect(result.throughput.ndrPPS?.count == 2)
    }
}

extension RFC2544ProcedureTests {
    func run(_ model: ModelDUT, reference: RFC2544Procedure.ReferenceLoad) throws -> (RFC2544Result, [TrialSpec]) {
        let box = Box()
        box.model = model
        let procedure = RFC2544Procedure(settings: RFC2544Settings(trialDuration: 1, repetitions: 1), frameSize: 64,
                                         reference: reference) { box.model.measure($0) }
        return (try procedure.run(dut: "model"), box.model.trials)
    }

    /// Another DUT is measured at half the reference's NDR, whatever its own NDR: a slower
    /// one loses frames there, and the point says so.
    @Test func latencyAtTheReferenceLoadUsesTheReferenceRate() throws {
        let reference = RFC2544Procedure.ReferenceLoad(
            dut: "linux-bridge nf-off", fraction: 0.5,
            fixed: .init(ratePPS: 300_000, label: "50% of linux-bridge nf-off NDR"))
        let (fast, fastTrials) = try run(ModelDUT(), reference: reference)
        let point = try #require(fast.referenceLatency)
        #expect(point.label == "50% of linux-bridge nf-off NDR")
        #expect(point.targetPPS == 300_000)
        #expect(fastTrials.contains { $0.ratePPS == 300_000 })
        #expect(point.lossRatio?.median == 0)
        var slow = ModelDUT()
        slow.capacity = 200_000
        let (slowResult, _) = try run(slow, reference: reference)
        let loss = try #require(slowResult.referenceLatency?.lossRatio?.median)
        #expect(abs(loss - (1 - 200_000.0 / 300_000)) < 0.001, "loss \(loss)")
    }

    /// The reference itself reuses its own 50% NDR point instead of measuring it twice.
    @Test func theReferenceReusesItsOwnPoint() throws {
        let reference = RFC2544Procedure.ReferenceLoad(dut: "model", fraction: 0.5)
        let (result, trials) = try run(ModelDUT(), reference: reference)
        let own = try #require(result.latency.first { $0.label == "50% NDR" })
        let point = try #require(result.referenceLatency)
        #expect(point.targetPPS == own.targetPPS)
        #expect(point.label == "50% of model NDR")
        #expect(trials.filter { $0.ratePPS == own.targetPPS }.count == 1)
        // The forwarding rate at the maximum load is what the model lets through.
        #expect(result.forwardingPPS?.median == 1_000_000)
    }
}

extension RFC2544ProcedureTests {
    /// A reference that lost frames at every rate tried (noise on a shared machine) has no
    /// NDR: the common load is then a fraction of its PDR, and the label says so.
    @Test func aReferenceWithoutNDRFallsBackToItsPDR() throws {
        let procedure = RFC2544Procedure(settings: RFC2544Settings(trialDuration: 1, repetitions: 1), frameSize: 64,
                                         reference: .init(dut: "lb", fraction: 0.5)) { ModelDUT().measureCopy($0) }
        let point = try #require(try procedure.referenceLatency(ndr: 0, pdr: 400_000, measured: []))
        #expect(point.label == "50% of lb PDR")
        #expect(point.targetPPS == 200_000)
    }
}

extension RFC2544ProcedureTests.ModelDUT {
    func measureCopy(_ spec: TrialSpec) -> TrialResult {
        var copy = self
        return copy.measure(spec)
    }
}
