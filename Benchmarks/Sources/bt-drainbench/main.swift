// bt-drainbench: trace's userspace drain per event, without a kernel, for callgrind.
//
// Replays the recorded ring-buffer stream (TraceRecords) through the code `trace --json`
// runs on its drain thread: EventPipeline.handleFrame (header, port name, frame decode,
// fan-out) into a TraceOutputSink writing to /dev/null, flushed every 96 records as the
// drain flushes after each poll (one write(2) per ~64 KiB of JSON lines). Instruction
// counts repeat exactly from run to run:
//
//   swift build -c release --product bt-drainbench
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/d1.cg .build/release/bt-drainbench --events 80000
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/d2.cg .build/release/bt-drainbench --events 160000
//   # (Ir of d2 - Ir of d1) / 80000 = instructions per event; start-up cancels out
//
// Without valgrind it prints events/s (wall clock, noisy on a shared machine).
import BridgeTraceCore
import BridgeTracePipeline
import Foundation
import TraceRecords

/// Records per flush: what one poll of a busy ring hands over, about 64 KiB of JSON.
let recordsPerPoll = 96

func run() {
    var events = 1_000_000
    var format = TraceOutputSink.Format.json
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch (argument, arguments.first) {
        case ("--events", let value?) where Int(value) != nil:
            events = Int(value)!
            arguments.removeFirst()
        case ("--format", "json"?), ("--format", "text"?):
            format = arguments.removeFirst() == "json" ? .json : .text
        default:
            FileHandle.standardError.write(Data("usage: bt-drainbench [--events N] [--format json|text]\n".utf8))
            exit(2)
        }
    }
    let devNull = open("/dev/null", O_WRONLY)
    let sink = TraceOutputSink(format: format, output: .fd(devNull), wallClockOffsetNs: 0)
    let pipeline = EventPipeline(source: EventSource(frames: nil, portNames: { ports }), sinks: [sink])
    let start = DispatchTime.now().uptimeNanoseconds
    var handled = 0
    while handled < events {
        for raw in stream {
            raw.withUnsafeBytes { pipeline.handleFrame($0) }
            handled += 1
            if handled % recordsPerPoll == 0 { pipeline.flush() }
        }
    }
    pipeline.flush(final: true)
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(pipeline.frames == handled && !pipeline.sinkFailed, "the pipeline refused records")
    print("\(handled) events: \(String(format: "%.2f", Double(handled) / elapsed / 1e6)) M events/s (wall clock)")
}

run()
