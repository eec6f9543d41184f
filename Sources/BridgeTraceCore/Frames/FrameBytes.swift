/// Big-endian reads from a frame's captured bytes. Callers check bounds first
/// (`FrameDecoding.has`); the buffer's own checks back them up in debug builds.
struct FrameBytes {
    let buffer: UnsafeBufferPointer<UInt8>

    @inline(__always) var count: Int { buffer.count }

    @inline(__always) func u8(_ offset: Int) -> UInt8 { buffer[offset] }

    @inline(__always) func u16(_ offset: Int) -> UInt16 {
        UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
    }

    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16
            | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])
    }

    @inline(__always) func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4))
    }

    @inline(__always) func mac(_ offset: Int) -> MACAddress {
        MACAddress(rawValue: UInt64(u16(offset)) << 32 | UInt64(u32(offset + 2)))
    }

    @inline(__always) func ipv4(_ offset: Int) -> IPv4Address {
        IPv4Address(rawValue: u32(offset))
    }

    @inline(__always) func ipv6(_ offset: Int) -> IPv6Address {
        IPv6Address(high: u64(offset), low: u64(offset + 8))
    }
}
