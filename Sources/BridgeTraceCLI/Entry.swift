import ArgumentParser
import BridgeTraceCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs the CLI. Operator-facing errors print one line and exit 2; argument errors keep
/// ArgumentParser's message and usage but also exit 2, so scripts see one "usage" code.
public enum Entry {
    public static func main() -> Never {
        do {
            var command = try BridgeTraceCommand.parseAsRoot()
            try command.run()
            exit(0)
        } catch let error as UserError {
            fputs("bridgetrace: \(error.message)\n", stderr)
            exit(2)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = BridgeTraceCommand.exitCode(for: error)
            if code == .success {
                print(BridgeTraceCommand.fullMessage(for: error))
                exit(0)
            }
            fputs(BridgeTraceCommand.fullMessage(for: error) + "\n", stderr)
            exit(2)
        }
    }
}
