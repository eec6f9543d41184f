import BridgeTraceLab
import Foundation
import BridgeTraceProcess

/// The built `bridgetrace` executable, for tests of the CLI itself (exit codes, messages).
///
/// Looked up in this order:
/// 1. environment BRIDGETRACE_BIN, when set (must be executable);
/// 2. next to the running test bundle: `swift test` builds every product into the same
///    directory, so this is the binary of this very build, whatever --scratch-path was;
/// 3. <package root>/.build/debug/bridgetrace;
/// 4. <package root>/.build*/debug/bridgetrace (for example .build-lab), newest first.
enum BridgeTraceBinary {
    static func path() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["BRIDGETRACE_BIN"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw BinaryNotFound(detail: "BRIDGETRACE_BIN=\(path) is not an executable file")
            }
            return path
        }
        let candidates = [besideTestBundle(), packageRoot + "/.build/debug/bridgetrace"].compactMap { $0 }
            + otherScratchPaths()
        if let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) {
            return found
        }
        throw BinaryNotFound(detail: "looked in \(candidates.joined(separator: ", "))")
    }

    /// Runs `bridgetrace ARGS` and returns status and output, whatever the status.
    static func run(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner().result([try path()] + arguments)
    }

    /// `run` with variables added to the environment (through env(1)).
    static func runWithEnvironment(_ environment: [String: String], _ arguments: [String]) throws -> CommandResult {
        try CommandRunner().result(["env"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            + [try path()] + arguments)
    }

    /// Tests/BridgeTraceIntegrationTests/Support/<this file> -> the package root.
    static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    private static func besideTestBundle() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
            .appendingPathComponent("bridgetrace").path
    }

    private static func otherScratchPaths() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot)) ?? []
        let binaries = entries.filter { $0.hasPrefix(".build") && $0 != ".build" }
            .map { "\(packageRoot)/\($0)/debug/bridgetrace" }
            .filter(FileManager.default.isExecutableFile(atPath:))
        return binaries.sorted { modificationDate($0) > modificationDate($1) }
    }

    private static func modificationDate(_ path: String) -> Date {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return attributes?[.modificationDate] as? Date ?? .distantPast
    }
}

struct BinaryNotFound: Error, CustomStringConvertible {
    var detail: String
    var description: String {
        "cannot find the bridgetrace binary (\(detail)); run `swift build` or set BRIDGETRACE_BIN"
    }
}
