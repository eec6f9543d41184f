/// Just enough XML for libvirt's domain files: elements with their attributes, text, and the
/// five predefined entities plus character references. Comments, processing instructions,
/// CDATA and DOCTYPE are skipped. Core has no Foundation, and libxml2 would be another
/// library for the package to depend on.
enum XMLScanner {
    enum Event: Equatable {
        case start(name: String, attributes: [String: String])
        case end(name: String)
        case text(String)
    }

    /// Calls `handle` for each event in document order; a self-closing element gives a start
    /// and an end. Stops quietly at malformed input (what came before it was handed over).
    static func scan(_ document: String, _ handle: (Event) -> Void) {
        let bytes = Array(document.utf8)
        var i = 0
        func starts(_ prefix: String, at index: Int) -> Bool {
            let p = Array(prefix.utf8)
            return index + p.count <= bytes.count && bytes[index..<index + p.count].elementsEqual(p)
        }
        func skip(past terminator: String) -> Bool {
            let t = Array(terminator.utf8)
            while i + t.count <= bytes.count {
                if bytes[i..<i + t.count].elementsEqual(t) { i += t.count; return true }
                i += 1
            }
            return false
        }
        while i < bytes.count {
            if bytes[i] != UInt8(ascii: "<") {
                let start = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "<") { i += 1 }
                let text = decodeEntities(bytes[start..<i])
                if text.contains(where: { !$0.isWhitespace }) { handle(.text(text)) }
                continue
            }
            if starts("<!--", at: i) { guard skip(past: "-->") else { return }; continue }
            if starts("<![CDATA[", at: i) {
                let start = i + 9
                guard skip(past: "]]>") else { return }
                handle(.text(String(decoding: bytes[start..<i - 3], as: UTF8.self)))
                continue
            }
            if starts("<?", at: i) { guard skip(past: "?>") else { return }; continue }
            if starts("<!", at: i) { guard skip(past: ">") else { return }; continue }
            if starts("</", at: i) {
                let start = i + 2
                guard skip(past: ">") else { return }
                handle(.end(name: String(decoding: bytes[start..<i - 1], as: UTF8.self).trimmingXMLSpace()))
                continue
            }
            // A start tag: name, attributes (quoted with ' or "), maybe "/>".
            i += 1
            let nameStart = i
            while i < bytes.count && !isSpace(bytes[i]) && bytes[i] != UInt8(ascii: ">") && bytes[i] != UInt8(ascii: "/") { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            var attributes: [String: String] = [:]
            var selfClosing = false
            while true {
                while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count else { return }
                if bytes[i] == UInt8(ascii: ">") { i += 1; break }
                if starts("/>", at: i) { i += 2; selfClosing = true; break }
                let keyStart = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "=") && !isSpace(bytes[i]) && bytes[i] != UInt8(ascii: ">") { i += 1 }
                let key = String(decoding: bytes[keyStart..<i], as: UTF8.self)
                while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { return }
                i += 1
                while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "'") || bytes[i] == UInt8(ascii: "\"") else { return }
                let quote = bytes[i]
                i += 1
                let valueStart = i
                while i < bytes.count && bytes[i] != quote { i += 1 }
                guard i < bytes.count else { return }
                attributes[key] = decodeEntities(bytes[valueStart..<i])
                i += 1
            }
            handle(.start(name: name, attributes: attributes))
            if selfClosing { handle(.end(name: name)) }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }

    static func decodeEntities(_ raw: ArraySlice<UInt8>) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else {
                rest = rest[amp...]
                break
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "apos": out += "'"
            case "quot": out += "\""
            default:
                let scalar: UInt32? =
                    entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(1)) : nil
                if let scalar, let character = Unicode.Scalar(scalar) {
                    out.unicodeScalars.append(character)
                } else {
                    out += rest[amp...semicolon]  // unknown: keep it as written
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }
}

extension String {
    fileprivate func trimmingXMLSpace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
