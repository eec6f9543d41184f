import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceBench

/// Call after `requireRoot()` in a test that needs one kind of generator: skipped where
/// this kernel refuses it, failed instead under CI=true (CI must run it).
func requireGenerator(_ choice: GeneratorChoice, sourceLocation: SourceLocation = #_sourceLocation) throws {
    do {
        _ = try GeneratorSelection.probe(choice)
    } catch let error as any OperatorError {
        if ProcessInfo.processInfo.environment["CI"] == "true" { throw KernelFeatureRequired(reason: error.message) }
        try Test.cancel("needs --generator \(choice.rawValue): \(error.message)", sourceLocation: sourceLocation)
    }
}

struct KernelFeatureRequired: Error, CustomStringConvertible {
    var reason: String
    var description: String { "this kernel lacks what the test needs and CI=true, so it may not be skipped: \(reason)" }
}
