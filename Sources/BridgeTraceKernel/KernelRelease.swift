import Glibc

/// The running kernel's release (`uname -r`): for messages, reports and build info. Never
/// for deciding what the kernel can do: KernelProbe asks the kernel itself.
public enum KernelRelease {
    public static var current: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
