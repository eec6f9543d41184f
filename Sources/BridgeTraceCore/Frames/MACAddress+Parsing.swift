extension MACAddress {
    /// `52:54:00:12:34:56` (or with `-`), as netlink state and findings spell MACs; nil
    /// for anything else. (Belongs in MACAddress.swift; kept here while that file is
    /// owned elsewhere.)
    init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count <= 2, let octet = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(octet)
        }
        self.init(rawValue: value)
    }
}
