import Foundation
import Testing

/// Call first in every test that needs root (namespaces, BPF): `try requireRoot()`.
///
/// - Root: returns.
/// - Not root and environment CI == "true": throws, so the test fails. CI is meant to run
///   these tests; silently skipping them there would hide that they never ran.
/// - Not root otherwise: cancels the test with `Test.cancel`, which Swift Testing reports as
///   skipped, so `swift test` on a laptop stays green.
func requireRoot(sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard geteuid() != 0 else { return }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw RootRequired()
    }
    try Test.cancel("needs root (network namespaces); run swift test as root", sourceLocation: sourceLocation)
}

struct RootRequired: Error, CustomStringConvertible {
    var description: String { "this test needs root and CI=true, so it may not be skipped; run it as root" }
}
