import Foundation
import Testing

/// For a test whose input comes from the running kernel: when that input is missing, the
/// test has checked nothing. As root or under CI=true that is a failure (the machine is meant
/// to have it); elsewhere the test is skipped, and says why.
func requireEvidence(_ why: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    if geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" {
        Issue.record("\(why) (root or CI=true: this may not be skipped)", sourceLocation: sourceLocation)
        return
    }
    try Test.cancel("\(why); run as root to check the running kernel", sourceLocation: sourceLocation)
}
