import BridgeTraceLab
import Foundation
import BridgeTraceProcess

// Command helpers for integration tests. They run through BridgeTraceLab's CommandRunner, so a
// failure reads "`ip ...` failed with status 1: <stderr>" in the test report.

/// Runs a command (looked up in PATH, /usr/sbin, /sbin) and returns its stdout; throws on a
/// non-zero exit with the command line and its stderr.
@discardableResult
func run(_ arguments: [String]) throws -> String {
    try CommandRunner().run(arguments)
}

/// Runs a command inside network namespace `namespace` (`ip netns exec NS ...`).
@discardableResult
func exec(inNetns namespace: String, _ arguments: [String]) throws -> String {
    try run(["ip", "netns", "exec", namespace] + arguments)
}

/// Runs a command and returns its status and output without throwing on failure, for tests
/// that expect a command to fail.
func runResult(_ arguments: [String]) throws -> CommandResult {
    try CommandRunner().result(arguments)
}

/// Whether a named network namespace exists (`ip netns` keeps one file per name).
func netnsExists(_ namespace: String) -> Bool {
    FileManager.default.fileExists(atPath: "/var/run/netns/\(namespace)")
}
