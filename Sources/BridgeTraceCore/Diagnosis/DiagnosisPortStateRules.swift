/// Rules from the ports' netlink state: port_down, no_carrier, stp_not_forwarding. A port
/// that is down or has no carrier also reads as STP "disabled"; it is reported once, for
/// its first cause.
enum DiagnosisPortStateRules {
    static let noCarrierStates: Set<String> = ["down", "lowerlayerdown", "notpresent", "dormant"]

    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        for name in ctx.portNames {
            let snaps = ctx.snapshots(name)
            guard !snaps.isEmpty else { continue }
            let when = { (bad: (BridgeState.Port) -> Bool) -> String in
                let b = ctx.before[name].map(bad), a = ctx.after[name].map(bad)
                switch (b, a) {
                case (true, true): return "before and after the watch"
                case (true, false): return "at the start of the watch (fixed since)"
                case (false, true): return "since during the watch"
                default: return "during the watch"
                }
            }
            if snaps.contains(where: { !$0.isUp }) {
                findings.add(Finding(
                    cause: .portDown, port: name, severity: .error,
                    summary: "Port \(name) is down: the bridge sends nothing out of it, so the host behind it is cut off",
                    evidence: ["\(name): administratively down (IFF_UP off) \(when { !$0.isUp })"],
                    fix: "ip link set dev \(name) up"))
                continue
            }
            if snaps.contains(where: { !$0.hasCarrier || noCarrierStates.contains($0.operState) }) {
                let state = snaps.last { !$0.hasCarrier || noCarrierStates.contains($0.operState) }!
                findings.add(Finding(
                    cause: .noCarrier, port: name, severity: .error,
                    summary: "Port \(name) is up but has no carrier (operstate \(state.operState)): "
                        + "nothing is listening at its other end, so frames sent to it are lost",
                    evidence: ["\(name): up, carrier \(state.hasCarrier ? "on" : "off"), operstate \(state.operState) "
                        + when { !$0.hasCarrier || noCarrierStates.contains($0.operState) }]
                        + txDroppedEvidence(ctx, name),
                    fix: noCarrierFix(name, kind: state.kind)))
                continue
            }
            if let state = stpFault(ctx, name) {
                let converging = ctx.stpEnabled && (state == .listening || state == .learning)
                findings.add(Finding(
                    cause: .stpNotForwarding, port: name, severity: converging ? .warning : .error,
                    summary: "Port \(name) is in STP state \(state.name), not forwarding: "
                        + "the bridge drops frames entering at \(name) and sends none out of it",
                    evidence: ["\(name): STP state \(state.name) \(when { $0.stpState == state }); "
                        + "bridge STP \(ctx.stpEnabled ? "on" : "off")"],
                    fix: stpFix(ctx, name)))
            }
        }
        tapTxDropped(ctx, &findings)
    }

    /// The STP state that keeps a port from forwarding, when it is a fault:
    /// - without STP, any state but forwarding (blocking excepted: the kernel ignores it);
    /// - with STP, disabled; listening/learning only when it lasted the whole watch;
    ///   blocking never (that is STP cutting a loop, by design).
    static func stpFault(_ ctx: DiagnosisContext, _ name: String) -> BridgeState.STPState? {
        let snaps = ctx.snapshots(name)
        if !ctx.stpEnabled {
            return snaps.last { $0.stpState != .forwarding && $0.stpState != .blocking }?.stpState
        }
        if let disabled = snaps.last(where: { $0.stpState == .disabled }) { return disabled.stpState }
        let transient: Set<BridgeState.STPState> = [.listening, .learning]
        if snaps.count == 2, snaps.allSatisfy({ transient.contains($0.stpState) }) { return snaps.last!.stpState }
        return nil
    }

    static func stpFix(_ ctx: DiagnosisContext, _ port: String) -> String {
        if ctx.stpEnabled {
            return "STP keeps \(port) out of forwarding: wait for it to converge, look for a loop (bridge link show), "
                + "or, if this bridge has no redundant links, turn STP off: ip link set dev \(ctx.bridge) type bridge stp_state 0"
        }
        return "bridge link set dev \(port) state 3"
    }

    static func noCarrierFix(_ port: String, kind: String?) -> String {
        switch kind {
        case "tun":
            return "start or resume the VM that owns \(port) (a tap has carrier only while its VM holds it open and reads it), "
                + "e.g. virsh start <vm> or kill -CONT <qemu pid>"
        case "veth":
            return "bring up the other end of the veth pair: ip link show \(port) names it (\(port)@<peer>), "
                + "then ip -n <its namespace> link set dev <peer> up"
        default:
            return "check the link of \(port): cable and switch port (ethtool \(port))"
        }
    }

    static func txDropped(_ ctx: DiagnosisContext, _ port: String) -> UInt64 {
        let before = ctx.input.stateBefore.deviceCounters[port]?.txDropped ?? 0
        let after = ctx.input.stateAfter.deviceCounters[port]?.txDropped ?? 0
        return after > before ? after - before : 0
    }

    static func txDroppedEvidence(_ ctx: DiagnosisContext, _ port: String) -> [String] {
        let grown = txDropped(ctx, port)
        return grown > 0 ? ["\(port): tx_dropped +\(grown) during the watch (frames sent to it that nobody took)"] : []
    }

    /// A tap whose VM stopped reading keeps its carrier, and the kernel drops what is sent
    /// to it (tx_dropped grows).
    static func tapTxDropped(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        for name in ctx.portNames where !findings.has(.portDown, at: name) && !findings.has(.noCarrier, at: name) {
            guard let port = ctx.after[name] ?? ctx.before[name], port.kind == "tun" else { continue }
            let grown = txDropped(ctx, name)
            guard grown >= ctx.thresholds.tapTxDropped else { continue }
            findings.add(Finding(
                cause: .noCarrier, port: name, severity: .error,
                summary: "The VM behind tap \(name) does not read its frames (stopped or hung): "
                    + "the kernel dropped \(grown) frames sent to it",
                evidence: ["\(name): up, carrier on, but tx_dropped +\(grown) during the watch"],
                fix: noCarrierFix(name, kind: "tun")))
        }
    }
}
