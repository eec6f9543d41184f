// bt-drainbench: trace's userspace drain per event, without a kernel, for callgrind.
//
// Replays the recorded ring-buffer stream (TraceRecords) through what `trace --json` does
// with each record on its drain thread (EventPipeline.handleFrame): port name, record decode,
// frame decode, JSON line into the batch buffer; the batch goes to /dev/null with one
// write(2) per 64 KiB, as trace flushes. Instruction counts repeat exactly from run to run:
//
//   swift build -c release --product bt-drainbench
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/drain.cg .build/release/bt-drainbench --events 200000
//   callgrind_annotate /tmp/drain.cg | head -40        # Ir / events = instructions per event
//
// Without valgrind it prints events/s (wall clock, noisy on a shared machine).
import BridgeTraceCore
import Foundation
import TraceRecords

var events = 1_000_000
var format = "json"
/// --old: the drain as it was before TraceLineBuffer: a line buffer per event, copied
/// into a [UInt8] batch (TraceJSON.append / TraceText.append), for before/after counts.
var old = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--events": events = Int(arguments.popFirst() ?? "") ?? events
    case "--format": format = arguments.popFirst() ?? format
    case "--old": old = true
    default:
        FileHandle.standardError.write(Data("usage: bt-drainbench [--events N] [--format json|text] [--old]\n".utf8))
        exit(2)
    }
}

let sink = open("/dev/null", O_WRONLY)
var drain = TraceLineBuffer()
var oldBatch: [UInt8] = []
oldBatch.reserveCapacity(1 << 17)
let start = DispatchTime.now().uptimeNanoseconds
var handled = 0
while handled < events {
    for raw in stream {
        raw.withUnsafeBytes { bytes in
            guard let ifindex = FrameEventRecord.ifindex(bytes),
                  let event = FrameEventRecord.event(bytes, port: ports[ifindex] ?? "if\(ifindex)") else { return }
            switch (old, format == "json") {
            case (false, true): drain.appendJSON(event, wallClockOffsetNs: 0)
            case (false, false): drain.appendText(event, wallClockOffsetNs: 0)
            case (true, true): TraceJSON.append(event, wallClockOffsetNs: 0, to: &oldBatch); oldBatch.append(10)
            case (true, false): TraceText.append(event, wallClockOffsetNs: 0, to: &oldBatch); oldBatch.append(10)
            }
        }
        handled += 1
        if drain.count >= 1 << 16 {
            drain.withBytes { _ = write(sink, $0.baseAddress, $0.count) }
            drain.removeAll()
        }
        if oldBatch.count >= 1 << 16 {
            _ = oldBatch.withUnsafeBytes { write(sink, $0.baseAddress, $0.count) }
            oldBatch.removeAll(keepingCapacity: true)
        }
    }
}
drain.withBytes { _ = write(sink, $0.baseAddress, $0.count) }
let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
print("\(handled) events, \(format): \(String(format: "%.2f", Double(handled) / elapsed / 1e6)) M events/s (wall clock)")
