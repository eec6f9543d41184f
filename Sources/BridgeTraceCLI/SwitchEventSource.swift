import BridgeTraceKernel
import BridgeTracePipeline
import BridgeTraceSwitch

extension EventSource {
    /// A running switch's own events: its pinned ring (drops arrive in it as kind drop,
    /// named by FrameEventRecord), its ports, its lost and sampled counts since `enable`.
    init(switchTrace source: SwitchTraceSource) {
        self.init(frames: Ring(fd: source.eventsFD, name: "\(source.name)/bt_events"),
                  portNames: { source.portNames },
                  lostFrameEvents: { try source.lostEvents() },
                  sampledOutEvents: { try source.sampledOutEvents() })
    }
}
