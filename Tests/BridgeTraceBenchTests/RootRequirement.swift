import Foundation
import Testing

/// Call first in every test that needs root (namespaces, BPF): `try requireRoot()`.
/// Not root: fails under CI=true (CI must run these), is skipped elsewhere.
func requireRoot(sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard geteuid() != 0 else { return }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw RootRequired()
    }
    try Test.cancel("needs root (network namespaces, BPF); run swift test as root", sourceLocation: sourceLocation)
}

struct RootRequired: Error, CustomStringConvertible {
    var description: String { "this test needs root and CI=true, so it may not be skipped; run it as root" }
}
