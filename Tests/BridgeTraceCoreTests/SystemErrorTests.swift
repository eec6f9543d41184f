import BridgeTraceCore
import Testing

/// Errors read the same wherever they come from: what was done, to what, the errno in
/// words with its name, and what to do; the CLI adds its name in front, once.
@Suite struct SystemErrorTests {
    @Test func operationSubjectErrnoAndHintInOneLine() {
        let error = SystemError("cannot attach XDP program bt_bench_sink to", subject: "veth1 in netns btb1",
                                errno: .resourceBusy, hint: "another program holds the port")
        #expect(error.message == "cannot attach XDP program bt_bench_sink to veth1 in netns btb1: "
            + "Device or resource busy (EBUSY); another program holds the port")
        #expect(error.line == "bridgetrace: " + error.message)
        #expect("\(error)" == error.message)
    }

    @Test func returnCodesOfEitherSignGiveTheSameErrno() {
        // libbpf and the shim return -errno; posix_spawn and pthread return it positive.
        let negative = SystemError("cannot load BPF object", subject: "bridgetrace_drops", code: -1)
        let positive = SystemError("cannot load BPF object", subject: "bridgetrace_drops", code: 1)
        #expect(negative == positive)
        #expect(negative.errno == .notPermitted)
        #expect(negative.message == "cannot load BPF object bridgetrace_drops: Operation not permitted (EPERM)")
    }

    @Test func errnosWithoutANameKeepTheirNumber() {
        #expect(SystemError.describe(.noSuchProcess) == "No such process (errno 3)")
        #expect(SystemError.describe(.noSuchFileOrDirectory) == "No such file or directory (ENOENT)")
    }

    @Test func withoutASubjectTheOperationSaysItAll() {
        #expect(SystemError("cannot create a pipe", errno: .tooManyOpenFiles).message
            == "cannot create a pipe: Too many open files (errno 24)")
    }

    @Test func everyOperatorErrorIsPrintedWithTheSamePrefix() {
        let errors: [any OperatorError] = [
            UserError("eth9: no such interface"),
            SystemError("cannot open netns", subject: "\"x\"", errno: .notPermitted),
        ]
        #expect(errors.map(\.line) == [
            "bridgetrace: eth9: no such interface",
            "bridgetrace: cannot open netns \"x\": Operation not permitted (EPERM)",
        ])
        #expect(operatorLine("serving http://127.0.0.1:9435/metrics") == "bridgetrace: serving http://127.0.0.1:9435/metrics")
    }

    @Test func catchSitesMatchTheErrnoByType() {
        func classify(_ error: any Error) -> String {
            switch error {
            case let error as SystemError where error.errno == .noSuchProcess: return "gone"
            case is SystemError: return "system"
            case is UserError: return "user"
            default: return "other"
            }
        }
        #expect(classify(SystemError("cannot pin", code: -3)) == "gone")
        #expect(classify(SystemError("cannot pin", code: -22)) == "system")
        #expect(classify(UserError("x")) == "user")
    }
}
