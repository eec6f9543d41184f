/// The part of pcap-filter syntax that `TracePrefilter` understands: a tokenizer and a
/// recursive-descent parser into `PcapFilterNode`. It is not a validator (libpcap is);
/// whatever it does not recognise becomes `.unknown`, and a text it cannot structure at
/// all gives `nil`.
///
/// It follows libpcap's grammar where that matters for the tree's shape:
/// - `and`/`&&` and `or`/`||` have the same precedence and associate to the left, so
///   `a or b and c` is `(a or b) and c`;
/// - `not`/`!` binds tightest;
/// - `src or dst` and `src and dst` are direction qualifiers, not connectives;
/// - each `vlan` keyword moves the offsets of everything after it in the text by one tag
///   (whatever the parentheses say), so every node records how many `vlan` keywords
///   precede it: its `depth`.
indirect enum PcapFilterNode: Equatable, Sendable {
    case and(PcapFilterNode, PcapFilterNode)
    case or(PcapFilterNode, PcapFilterNode)
    case not(PcapFilterNode)
    /// The `vlan` keyword that is the `depth`-th in the text (0-based), with its VID.
    case vlan(id: UInt16?, depth: Int)
    case primitive(PcapFilterPrimitive, depth: Int)
    case unknown
}

/// A protocol name as a primitive or a qualifier.
enum PcapFilterProtocol: String, Sendable, CaseIterable {
    case ether, arp, rarp, ip, ip6, icmp, icmp6, tcp, udp, sctp
}

enum PcapFilterPrimitive: Equatable, Sendable {
    /// `arp`, `ip`, `icmp`, ... alone; or `ip6 host X` and the like, which imply it.
    case proto(PcapFilterProtocol)
    /// `[ip|arp|rarp] [src|dst] host A.B.C.D`, with no protocol meaning ip, arp or rarp.
    case ipv4Host(PcapFilterProtocol?, [UInt8])
    /// `ether [src|dst|host] MAC`.
    case etherHost([UInt8])
    /// `[tcp|udp|sctp] [src|dst] port|portrange X`, with no protocol meaning any of them.
    case port(PcapFilterProtocol?)
}

enum PcapFilterSyntax {
    /// Keywords that, like `vlan`, move the offsets of what follows; the prefilter does
    /// not model them, so an expression with any of them gets no prefilter.
    static let offsetShifters: Set<String> = ["mpls", "pppoes", "geneve", "vxlan"]

    enum Token: Equatable {
        case word(String)
        case open, close, not, and, or
        /// Any other symbol: `[`, `]`, `&`, `!=`, `\`, ...
        case symbol(String)
    }

    /// The tree, or nil when the text does not parse as a boolean combination of
    /// primitives, or uses an offset-shifting keyword other than `vlan`.
    static func parse(_ text: String) -> PcapFilterNode? {
        let tokens = tokenize(text)
        if tokens.isEmpty { return nil }
        for case .word(let word) in tokens where offsetShifters.contains(word) { return nil }
        var parser = Parser(tokens: tokens)
        guard let node = parser.expression(), parser.position == tokens.count else { return nil }
        return node
    }

    static func tokenize(_ text: String) -> [Token] {
        let chars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        func isWordChar(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "a"..."z", "A"..."Z", "0"..."9", ".", ":", "-", "_": return true
            default: return false
            }
        }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            if isWordChar(c) {
                var word = ""
                while i < chars.count, isWordChar(chars[i]) {
                    word.unicodeScalars.append(chars[i])
                    i += 1
                }
                switch word {
                case "and": tokens.append(.and)
                case "or": tokens.append(.or)
                case "not": tokens.append(.not)
                default: tokens.append(.word(word))
                }
                continue
            }
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            let pair = next.map { String(c) + String($0) }
            switch pair {
            case "&&": tokens.append(.and); i += 2; continue
            case "||": tokens.append(.or); i += 2; continue
            case "!=", "==", ">=", "<=", "<<", ">>": tokens.append(.symbol(pair!)); i += 2; continue
            default: break
            }
            switch c {
            case "(": tokens.append(.open)
            case ")": tokens.append(.close)
            case "!": tokens.append(.not)
            default: tokens.append(.symbol(String(c)))
            }
            i += 1
        }
        return tokens
    }

    struct Parser {
        let tokens: [Token]
        var position = 0
        /// vlanBefore[i]: `vlan` keywords among tokens[0..<i].
        let vlanBefore: [Int]

        init(tokens: [Token]) {
            self.tokens = tokens
            var counts = [0]
            for token in tokens { counts.append(counts.last! + (token == .word("vlan") ? 1 : 0)) }
            vlanBefore = counts
        }

        var current: Token? { position < tokens.count ? tokens[position] : nil }

        /// expression := term (connective term)*, left-associative, one precedence level.
        mutating func expression() -> PcapFilterNode? {
            guard var node = term() else { return nil }
            while let token = current, token == .and || token == .or {
                position += 1
                guard let right = term() else { return nil }
                node = token == .and ? .and(node, right) : .or(node, right)
            }
            return node
        }

        /// term := not term | ( expression ) | primitive
        mutating func term() -> PcapFilterNode? {
            switch current {
            case nil, .and?, .or?, .close?:
                return nil
            case .not?:
                position += 1
                return term().map { .not($0) }
            case .open?:
                position += 1
                guard let inner = expression(), current == .close else { return nil }
                position += 1
                return inner
            default:
                return primitive()
            }
        }

        /// The tokens up to the next connective or unmatched `)`, with brackets and
        /// parentheses of arithmetic kept inside.
        mutating func primitive() -> PcapFilterNode? {
            let start = position
            var run: [Token] = []
            var nesting = 0
            while let token = current {
                if nesting == 0 {
                    if token == .close { break }
                    if token == .and || token == .or {
                        // `src or dst`, `dst and src`: one direction qualifier.
                        if let last = run.last, isDirection(last), position + 1 < tokens.count,
                           isDirection(tokens[position + 1]) {
                            run.append(token)
                            position += 1
                            continue
                        }
                        break
                    }
                }
                if token == .open { nesting += 1 }
                if token == .close { nesting -= 1 }
                run.append(token)
                position += 1
            }
            if run.isEmpty || nesting != 0 { return nil }
            return PcapFilterSyntax.interpret(run, depth: vlanBefore[start])
        }

        func isDirection(_ token: Token) -> Bool {
            token == .word("src") || token == .word("dst")
        }
    }

    /// One primitive's tokens: `[proto] [dir] [type] [id]`, or `vlan [id]`.
    static func interpret(_ run: [Token], depth: Int) -> PcapFilterNode {
        var words: [String] = []
        for token in run {
            switch token {
            case .word(let word): words.append(word)
            case .and: words.append("and")
            case .or: words.append("or")
            default: return .unknown
            }
        }
        if words.first == "vlan" {
            if words.count == 1 { return .vlan(id: nil, depth: depth) }
            if words.count == 2, let id = number(words[1]), id <= 4095 { return .vlan(id: UInt16(id), depth: depth) }
            return .unknown
        }
        var rest = words[...]
        let proto = rest.first.flatMap(PcapFilterProtocol.init(rawValue:))
        if proto != nil { rest = rest.dropFirst() }
        var direction = false
        if let first = rest.first, first == "src" || first == "dst" {
            direction = true
            rest = rest.dropFirst()
            if rest.count >= 2, rest.first == "or" || rest.first == "and",
               rest.dropFirst().first == "src" || rest.dropFirst().first == "dst" {
                rest = rest.dropFirst(2)
            }
        }
        let type = rest.first.flatMap { ["host", "port", "portrange", "net"].contains($0) ? $0 : nil }
        if type != nil { rest = rest.dropFirst() }
        guard let id = rest.first else {
            // A protocol alone (`arp`); a qualifier without an id is not a primitive.
            if let proto, proto != .ether, !direction, type == nil { return .primitive(.proto(proto), depth: depth) }
            return .unknown
        }
        guard rest.count == 1 else { return .unknown }

        switch type {
        case "port", "portrange":
            if proto == nil || proto == .tcp || proto == .udp || proto == .sctp {
                return .primitive(.port(proto), depth: depth)
            }
            return .unknown
        case "host", nil:
            // A bare id inherits the qualifiers before it in libpcap: not modelled.
            if proto == nil && !direction && type == nil { return .unknown }
            if proto == .ether {
                if let mac = macAddress(id) { return .primitive(.etherHost(mac), depth: depth) }
                return .unknown
            }
            if proto == nil || proto == .ip || proto == .arp || proto == .rarp, let address = ipv4Address(id) {
                return .primitive(.ipv4Host(proto, address), depth: depth)
            }
            // `ip6 host fe80::1`, `ip host gateway`: whatever the address, the protocol holds.
            if let proto, [.ip, .ip6, .arp, .rarp].contains(proto) { return .primitive(.proto(proto), depth: depth) }
            return .unknown
        default:
            return .unknown
        }
    }

    /// A number as libpcap reads one: `0x` hex, a leading `0` octal, else decimal.
    static func number(_ text: String) -> UInt32? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
        if text.count > 1 && text.hasPrefix("0") { return UInt32(text.dropFirst(), radix: 8) }
        return UInt32(text, radix: 10)
    }

    /// A dotted quad with all four parts (libpcap reads `10.0.0` as a network). Parts
    /// are decimal, leading zeros included, as libpcap reads them.
    static func ipv4Address(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    /// `a:b:c:d:e:f`, `a-b-c-d-e-f`, `a.b.c.d.e.f` (1 or 2 hex digits each),
    /// `aabb.ccdd.eeff` or `aabbccddeeff`.
    static func macAddress(_ text: String) -> [UInt8]? {
        func hex(_ part: Substring, digits: ClosedRange<Int>) -> UInt32? {
            guard digits.contains(part.count), part.allSatisfy(\.isHexDigit) else { return nil }
            return UInt32(part, radix: 16)
        }
        for separator in [":", "-", "."] as [Character] {
            let parts = text.split(separator: separator, omittingEmptySubsequences: false)
            if parts.count == 6 {
                var out: [UInt8] = []
                for part in parts {
                    guard let value = hex(part, digits: 1...2) else { return nil }
                    out.append(UInt8(value))
                }
                return out
            }
            if separator == ".", parts.count == 3 {
                var out: [UInt8] = []
                for part in parts {
                    guard let value = hex(part, digits: 4...4) else { return nil }
                    out += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
                return out
            }
        }
        if text.count == 12, text.allSatisfy(\.isHexDigit), let value = UInt64(text, radix: 16) {
            return (0..<6).map { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * $0)) }
        }
        return nil
    }
}
