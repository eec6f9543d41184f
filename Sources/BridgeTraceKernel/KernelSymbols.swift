import Foundation

/// Kernel addresses to function names, through /proc/kallsyms: a sorted address table,
/// and the nearest symbol at or below an address. Drop locations are return addresses
/// inside the dropping function (e.g. nft_do_chain+0x3a1), so "at or below" names it.
///
/// When kptr_restrict hides addresses (every address reads 0) or an address lies outside
/// the kernel's text, `name(of:)` gives the hex address instead: never a wrong name.
public struct KernelSymbols: Sendable {
    public struct Symbol: Sendable, Equatable {
        public var address: UInt64
        public var name: String
    }

    /// Sorted by address; text symbols only (types t/T/w/W).
    public let symbols: [Symbol]

    /// Addresses above the last symbol are named only within this distance of it; the
    /// kernel's text ends there.
    static let tailSlack: UInt64 = 1 << 20

    public init(symbols: [Symbol]) {
        self.symbols = symbols.sorted { $0.address < $1.address }
    }

    /// Parses /proc/kallsyms text: "ffffffff81fbd5d0 T nft_do_chain", optionally with a
    /// "\t[module]" suffix. Lines that are not text symbols, or whose address is 0 (hidden
    /// by kptr_restrict), are skipped.
    public static func parse(_ text: String) -> KernelSymbols {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(200_000)
        var utf8 = text.utf8[...]
        while !utf8.isEmpty {
            let lineEnd = utf8.firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
            if let symbol = parseLine(utf8[utf8.startIndex..<lineEnd]) { symbols.append(symbol) }
            utf8 = lineEnd == utf8.endIndex ? utf8[lineEnd...] : utf8[utf8.index(after: lineEnd)...]
        }
        return KernelSymbols(symbols: symbols)
    }

    static func parseLine(_ line: Substring.UTF8View) -> Symbol? {
        var address: UInt64 = 0
        var index = line.startIndex
        var digits = 0
        while index < line.endIndex, let digit = hexValue(line[index]) {
            guard digits < 16 else { return nil }
            address = address << 4 | UInt64(digit)
            digits += 1
            index = line.index(after: index)
        }
        guard digits > 0, address != 0, index < line.endIndex, line[index] == UInt8(ascii: " ") else { return nil }
        index = line.index(after: index)
        guard index < line.endIndex else { return nil }
        let type = line[index]
        guard [UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "w"), UInt8(ascii: "W")].contains(type) else { return nil }
        index = line.index(after: index)
        guard index < line.endIndex, line[index] == UInt8(ascii: " ") else { return nil }
        index = line.index(after: index)
        var end = index
        while end < line.endIndex, line[end] != UInt8(ascii: "\t"), line[end] != UInt8(ascii: " ") { end = line.index(after: end) }
        guard end > index else { return nil }
        return Symbol(address: address, name: String(decoding: line[index..<end], as: UTF8.self))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The symbol containing `address` (nearest at or below), or nil.
    public func symbol(at address: UInt64) -> Symbol? {
        guard let first = symbols.first, address >= first.address else { return nil }
        var low = 0
        var high = symbols.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if symbols[middle].address <= address { low = middle } else { high = middle - 1 }
        }
        if low == symbols.count - 1 && address - symbols[low].address > Self.tailSlack { return nil }
        return symbols[low]
    }

    /// "nft_do_chain", or "0xffffffff81fbd971" when the address cannot be named.
    public func name(of address: UInt64) -> String {
        symbol(at: address)?.name ?? Self.hex(address)
    }

    static func hex(_ address: UInt64) -> String {
        "0x" + String(address, radix: 16)
    }

    /// The running kernel's table; empty (every location shown as hex) when /proc/kallsyms
    /// cannot be read or hides its addresses.
    public static func load(path: String = "/proc/kallsyms") -> KernelSymbols {
        // /proc files report size 0: read until EOF rather than trusting stat.
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.readToEnd() else { return KernelSymbols(symbols: []) }
        try? handle.close()
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// Whether any address could be named (false under kptr_restrict or without access).
    public var isUsable: Bool { !symbols.isEmpty }
}

/// Symbolises lazily (kallsyms is read on the first lookup) and remembers each answer:
/// drops come from a handful of locations, over and over.
public final class KernelSymbolCache: @unchecked Sendable {
    private let lock = NSLock()
    private var table: KernelSymbols?
    private var names: [UInt64: String] = [:]
    private let loader: () -> KernelSymbols

    public init(loader: @escaping () -> KernelSymbols = { KernelSymbols.load() }) {
        self.loader = loader
    }

    public func name(of address: UInt64) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let known = names[address] { return known }
        if table == nil { table = loader() }
        let name = table!.name(of: address)
        names[address] = name
        return name
    }

    /// Whether addresses can be named at all (loads the table).
    public var isUsable: Bool {
        lock.lock()
        defer { lock.unlock() }
        if table == nil { table = loader() }
        return table!.isUsable
    }
}
