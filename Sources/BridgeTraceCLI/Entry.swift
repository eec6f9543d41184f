import ArgumentParser
import BridgeTraceCore
import BridgeTracePipeline
import Foundation

/// Runs the CLI. Operator-facing errors print one line and exit 2; argument errors keep
/// ArgumentParser's message and usage but also exit 2, so scripts see one "usage" code.
public enum Entry {
    public static func main() -> Never {
        do {
            var command = try BridgeTraceCommand.parseAsRoot()
            try command.run()
            exit(0)
        } catch let error as any OperatorError {
            writeStandardError(error.line)
            exit(2)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = BridgeTraceCommand.exitCode(for: error)
            if code == .success {
                print(BridgeTraceCommand.fullMessage(for: error))
                exit(0)
            }
            writeStandardError(BridgeTraceCommand.fullMessage(for: error))
            exit(2)
        }
    }
}

/// A note for the operator on stderr, with the program's name in front like an error.
func writeNote(_ text: String) {
    writeStandardError(operatorLine(text))
}

/// One line to stderr, unbuffered, so it lands before the exit.
func writeStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Writes all of `text` to stdout, unbuffered. False when the reader has gone (EPIPE),
/// which long-running commands take as a request to stop.
func writeStandardOutput(_ text: String) -> Bool {
    writeStandardOutput(bytes: Array(text.utf8))
}

func writeStandardOutput(bytes all: [UInt8]) -> Bool {
    all.withUnsafeBufferPointer { FileOutput.writeAll(STDOUT_FILENO, $0) }
}
