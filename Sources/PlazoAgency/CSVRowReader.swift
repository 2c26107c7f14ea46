import Foundation

/// A streaming RFC 4180 CSV reader over bytes that knows the line on which each record starts.
///
/// Written here rather than taken from a package because agencies need exact line numbers in
/// error reports (a quoted field may span lines) and because the CSV package available to this
/// build reports a spurious read error at end of file on Linux and reads byte by byte through
/// closures, far too slowly for exports of millions of rows.
///
/// Accepted: `,`, `;` or tab separators (detected from the header line, the most frequent of the
/// three outside quotes, unless given); fields optionally quoted with `"`, a quote inside a quoted
/// field written `""`, separators and line ends inside quotes kept; line ends LF or CRLF; UTF-8 (a
/// leading byte-order mark is skipped) or Windows-1252. Unquoted fields are trimmed of spaces and
/// tabs.
///
/// Encoding: given, or detected without a second pass. While every byte read is ASCII the two
/// encodings read alike; the first field with a byte over 0x7F decides: UTF-8 if it is valid UTF-8
/// (or the file starts with a byte-order mark), otherwise Windows-1252. A later field that cannot
/// be read in the encoding in use (invalid UTF-8; a byte Windows-1252 leaves undefined) stops the
/// reading with ``Failure/undecodable(line:byte:encoding:)``, naming the line of that byte: an
/// export is never read with garbled labels.
struct CSVRowReader {
    /// The text encodings an export may be in.
    enum Encoding: String, Sendable, CaseIterable {
        case utf8 = "utf-8"
        case windows1252 = "windows-1252"
    }

    private let source: InputStream
    private var delimiter: UInt8?
    /// The encoding in use: given, or decided by the first non-ASCII field (nil until then).
    private(set) var encoding: Encoding?
    /// Whether the encoding was given rather than detected.
    let encodingGiven: Bool
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var count = 0
    private var position = 0
    private var atEOF = false
    private var firstChunk = true
    /// The line the next character is on.
    private var line = 1
    /// The widest record so far (capacity to reserve for the next one).
    private var lastFieldCount = 8
    /// The bytes of the field being read, kept between records for their capacity.
    private var fieldBuffer: [UInt8] = []

    /// - Parameter encoding: the export's encoding; nil detects it (see the type's notes).
    init(stream: InputStream, delimiter: UInt8? = nil, encoding: Encoding? = nil) {
        self.source = stream
        self.delimiter = delimiter
        self.encoding = encoding
        self.encodingGiven = encoding != nil
        stream.open()
    }

    /// The encoding the export was read in so far (UTF-8 while everything was ASCII).
    var encodingUsed: Encoding { encoding ?? .utf8 }

    /// The separator in use (after the header has been read, the detected one).
    var separator: UInt8 { delimiter ?? 0x2C }

    /// Picks the separator from the first line in the buffer: the most frequent of `,`, `;` and
    /// tab outside quotes (comma on a tie or when none appears).
    private mutating func detectDelimiter() {
        var counts: [UInt8: Int] = [0x2C: 0, 0x3B: 0, 0x09: 0]
        var inQuotes = false
        var i = position
        while i < count {
            let c = buffer[i]
            if c == 0x22 { inQuotes.toggle() } else if !inQuotes {
                if c == 0x0A { break }
                if counts[c] != nil { counts[c]! += 1 }
            }
            i += 1
        }
        let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key != 0x2C && b.key == 0x2C) }!
        delimiter = best.value > 0 ? best.key : 0x2C
    }

    /// Decodes a field's bytes in the export's encoding, deciding it on the first non-ASCII field
    /// when it was not given. `lastLine` is the line of the field's last byte.
    private mutating func decode(_ bytes: ArraySlice<UInt8>, lastLine: Int) throws(Failure) -> String {
        guard let firstHigh = bytes.firstIndex(where: { $0 >= 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
        func lineOf(_ index: Int) -> Int { lastLine - bytes[index...].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
        if encoding == nil {
            encoding = Self.firstInvalidUTF8(bytes, from: firstHigh) == nil ? .utf8 : .windows1252
        }
        switch encoding! {
        case .utf8:
            if let bad = Self.firstInvalidUTF8(bytes, from: firstHigh) {
                throw .undecodable(line: lineOf(bad), byte: bytes[bad], encoding: encodingGiven ? "UTF-8" : "UTF-8 (as detected earlier in the file)")
            }
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for i in bytes.indices {
                let scalar = Self.windows1252[Int(bytes[i])]
                if scalar == "\u{FFFD}" {
                    throw .undecodable(line: lineOf(i), byte: bytes[i], encoding: encodingGiven ? "Windows-1252" : "Windows-1252 (detected: it is not UTF-8)")
                }
                scalars.append(scalar)
            }
            return String(scalars)
        }
    }

    /// The index of the first byte that breaks UTF-8 at or after `from` (which starts a sequence), or nil.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>, from: Int) -> Int? {
        var i = from
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let (length, low, high): (Int, UInt8, UInt8)
            switch b {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + length <= end else { return i }
            let second = bytes[i + 1]
            guard second >= low, second <= high else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    /// Windows-1252 to Unicode: Latin-1 except 0x80–0x9F (undefined bytes map to U+FFFD).
    static let windows1252: [Unicode.Scalar] = {
        let high: [UInt32] = [
            0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
            0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
        ]
        return (0..<256).map { b in Unicode.Scalar(b >= 0x80 && b < 0xA0 ? high[b - 0x80] : UInt32(b))! }
    }()

    enum Failure: Error {
        case unterminatedQuote(line: Int)
        case strayQuote(line: Int)
        /// A byte that cannot be read in the encoding in use, on `line`.
        case undecodable(line: Int, byte: UInt8, encoding: String)
        case readError
    }

    private mutating func fill() throws(Failure) {
        guard !atEOF else { return }
        let n = buffer.withUnsafeMutableBufferPointer { source.read($0.baseAddress!, maxLength: $0.count) }
        if n < 0 { throw .readError }
        if n == 0 { atEOF = true }
        count = max(n, 0)
        position = 0
        if firstChunk {
            firstChunk = false
            if count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                position = 3
                if encoding == nil { encoding = .utf8 }
            }
            if delimiter == nil { detectDelimiter() }
        }
    }

    private mutating func peek() throws(Failure) -> UInt8? {
        if position >= count {
            try fill()
            if position >= count { return nil }
        }
        return buffer[position]
    }

    /// The first position at or after `from` in the buffered bytes holding one of the four bytes
    /// (or the end of the buffered bytes): how plain runs are copied at once rather than byte by byte.
    private func runEnd(from: Int, stoppingAt a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Int {
        buffer.withUnsafeBufferPointer { p in
            var i = from
            let n = count
            while i < n {
                let x = p[i]
                if x == a || x == b || x == c || x == d { break }
                i += 1
            }
            return i
        }
    }

    /// The next record and the line it starts on, or nil at the end of the input.
    mutating func next() throws(Failure) -> (line: Int, fields: [String])? {
        guard try peek() != nil else { return nil }
        let startLine = line
        var fields: [String] = []
        fields.reserveCapacity(lastFieldCount)
        defer { lastFieldCount = max(lastFieldCount, fields.count) }
        var field: [UInt8] = []
        swap(&field, &fieldBuffer)
        field.removeAll(keepingCapacity: true)
        defer { swap(&field, &fieldBuffer) }
        var quoted = false
        var inQuotes = false
        var afterQuote = false
        func finishField() throws(Failure) {
            if quoted {
                fields.append(try decode(field[...], lastLine: line))
            } else {
                var lo = 0
                var hi = field.count
                while lo < hi, field[lo] == 0x20 || field[lo] == 0x09 { lo += 1 }
                while hi > lo, field[hi - 1] == 0x20 || field[hi - 1] == 0x09 { hi -= 1 }
                fields.append(try decode(field[lo..<hi], lastLine: line))
            }
            field.removeAll(keepingCapacity: true)
            quoted = false
            afterQuote = false
        }
        let separator = self.separator
        while let c = try peek() {
            position += 1
            if inQuotes {
                if c == 0x22 {
                    if try peek() == 0x22 {
                        position += 1
                        field.append(0x22)
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    // The rest of a run without quotes or line ends, at once.
                    let end = runEnd(from: position, stoppingAt: 0x22, 0x22, 0x0A, 0x0A)
                    if end > position {
                        field.append(contentsOf: buffer[position..<end])
                        position = end
                    }
                }
                continue
            }
            switch c {
            case separator:
                try finishField()
            case 0x0A:  // LF ends the record
                try finishField()
                line += 1
                return (startLine, fields)
            case 0x0D:  // CR: part of CRLF, otherwise ignored
                break
            case 0x22:  // "
                let onlySpaces = field.allSatisfy { $0 == 0x20 || $0 == 0x09 }
                if !quoted, onlySpaces {
                    field.removeAll()
                    quoted = true
                    inQuotes = true
                } else {
                    throw .strayQuote(line: line)
                }
            default:
                if afterQuote {
                    if c == 0x20 || (c == 0x09 && separator != 0x09) { continue }
                    throw .strayQuote(line: line)
                }
                field.append(c)
                // The rest of the field's plain bytes in this buffer, at once.
                let end = runEnd(from: position, stoppingAt: separator, 0x0A, 0x0D, 0x22)
                if end > position {
                    field.append(contentsOf: buffer[position..<end])
                    position = end
                }
            }
        }
        if inQuotes { throw .unterminatedQuote(line: startLine) }
        try finishField()
        return (startLine, fields)
    }
}

extension CSVRowReader {
    /// One record as bytes: each field's bytes (unquoted, `""` unescaped, unquoted fields trimmed)
    /// one after another in `bytes`, with each field's bounds. Reused from record to record, so that
    /// reading a record makes no String and, once warm, allocates nothing.
    struct RawRecord {
        /// The line the record starts on.
        var line = 0
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var ends: [Int] = []

        var count: Int { starts.count }

        /// Whether every field is empty (a blank line).
        var isBlank: Bool {
            for i in starts.indices where ends[i] > starts[i] { return false }
            return true
        }

        mutating func reset() {
            bytes.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
        }
    }

    /// Reads the next record into `record` as bytes, with exactly the rules (and failures) of
    /// ``next()``: a field with a byte over 0x7F is checked (and the encoding decided) as it ends.
    /// Returns false at the end of the input.
    mutating func next(into record: inout RawRecord) throws(Failure) -> Bool {
        guard try peek() != nil else { return false }
        record.reset()
        record.line = line
        if try quickRecord(into: &record) { return true }
        var fieldStart = 0
        var quoted = false
        var inQuotes = false
        var afterQuote = false
        func finishField() throws(Failure) {
            var lo = fieldStart
            var hi = record.bytes.count
            if !quoted {
                while lo < hi, record.bytes[lo] == 0x20 || record.bytes[lo] == 0x09 { lo += 1 }
                while hi > lo, record.bytes[hi - 1] == 0x20 || record.bytes[hi - 1] == 0x09 { hi -= 1 }
            }
            var high = false
            record.bytes.withUnsafeBufferPointer { p in
                var i = lo
                while i < hi { if p[i] >= 0x80 { high = true; break }; i += 1 }
            }
            if high { _ = try decode(record.bytes[lo..<hi], lastLine: line) }
            record.starts.append(lo)
            record.ends.append(hi)
            fieldStart = record.bytes.count
            quoted = false
            afterQuote = false
        }
        let separator = self.separator
        while let c = try peek() {
            position += 1
            if inQuotes {
                if c == 0x22 {
                    if try peek() == 0x22 {
                        position += 1
                        record.bytes.append(0x22)
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if c == 0x0A { line += 1 }
                    record.bytes.append(c)
                    let end = runEnd(from: position, stoppingAt: 0x22, 0x22, 0x0A, 0x0A)
                    if end > position {
                        record.bytes.append(contentsOf: buffer[position..<end])
                        position = end
                    }
                }
                continue
            }
            switch c {
            case separator:
                try finishField()
            case 0x0A:
                try finishField()
                line += 1
                return true
            case 0x0D:
                break
            case 0x22:
                var onlySpaces = true
                for k in fieldStart..<record.bytes.count where record.bytes[k] != 0x20 && record.bytes[k] != 0x09 { onlySpaces = false; break }
                if !quoted, onlySpaces {
                    record.bytes.removeSubrange(fieldStart...)
                    quoted = true
                    inQuotes = true
                } else {
                    throw .strayQuote(line: line)
                }
            default:
                if afterQuote {
                    if c == 0x20 || (c == 0x09 && separator != 0x09) { continue }
                    throw .strayQuote(line: line)
                }
                record.bytes.append(c)
                let end = runEnd(from: position, stoppingAt: separator, 0x0A, 0x0D, 0x22)
                if end > position {
                    record.bytes.append(contentsOf: buffer[position..<end])
                    position = end
                }
            }
        }
        if inQuotes { throw .unterminatedQuote(line: record.line) }
        try finishField()
        return true
    }

    /// The common record, read at once: one whole line in the buffer without quotes (and without a
    /// carriage return other than the one of CRLF). Split at the separators with the rules of the
    /// byte-by-byte reading (unquoted fields trimmed of spaces and tabs; fields with a byte over
    /// 0x7F checked in order). Returns false, having consumed nothing, for any other record.
    private mutating func quickRecord(into record: inout RawRecord) throws(Failure) -> Bool {
        let start = position
        let n = count
        let lf: Int? = buffer.withUnsafeBufferPointer { p in
            var i = start
            while i < n {
                let x = p[i]
                if x == 0x0A { return i }
                if x == 0x22 { return nil }
                if x == 0x0D { return i + 1 < n && p[i + 1] == 0x0A ? i + 1 : nil }
                i += 1
            }
            return nil
        }
        guard let lf else { return false }
        let end = lf > start && buffer[lf - 1] == 0x0D ? lf - 1 : lf
        record.bytes.append(contentsOf: buffer[start..<end])
        let separator = self.separator
        var high = false
        // Split over the buffer (the record's bytes are the same, from offset `start`).
        buffer.withUnsafeBufferPointer { p in
            let m = end
            var fieldStart = start
            var acc: UInt8 = 0
            var i = start
            while true {
                if i == m || p[i] == separator {
                    var lo = fieldStart
                    var hi = i
                    while lo < hi, p[lo] == 0x20 || p[lo] == 0x09 { lo += 1 }
                    while hi > lo, p[hi - 1] == 0x20 || p[hi - 1] == 0x09 { hi -= 1 }
                    record.starts.append(lo - start)
                    record.ends.append(hi - start)
                    if acc >= 0x80 { high = true }
                    if i == m { break }
                    fieldStart = i + 1
                    acc = 0
                } else {
                    acc |= p[i]
                }
                i += 1
            }
        }
        if high {
            for k in 0..<record.count where record.bytes[record.starts[k]..<record.ends[k]].contains(where: { $0 >= 0x80 }) {
                _ = try decode(record.bytes[record.starts[k]..<record.ends[k]], lastLine: line)
            }
        }
        position = lf + 1
        line += 1
        return true
    }

    /// Field `i` of a record read by ``next(into:)`` as text, in the encoding in use (the field was
    /// checked as it was read, so this cannot fail).
    func string(_ record: RawRecord, _ i: Int) -> String {
        Self.string(record, i, encoding: encoding)
    }

    /// Field `i` of a checked record as text in `encoding`.
    static func string(_ record: RawRecord, _ i: Int, encoding: Encoding?) -> String {
        record.bytes.withUnsafeBufferPointer { p in
            let field = UnsafeBufferPointer(rebasing: p[record.starts[i]..<record.ends[i]])
            if encoding == .windows1252, field.contains(where: { $0 >= 0x80 }) {
                var scalars = String.UnicodeScalarView()
                for b in field { scalars.append(windows1252[Int(b)]) }
                return String(scalars)
            }
            return String(decoding: field, as: UTF8.self)
        }
    }

    /// Every field of a record read by ``next(into:)`` as text.
    func strings(_ record: RawRecord) -> [String] {
        (0..<record.count).map { string(record, $0) }
    }

    /// The next record as bytes, with reading failures as the ``ExportError`` an agency is shown.
    mutating func nextRecord(into record: inout RawRecord) throws(ExportError) -> Bool {
        do { return try next(into: &record) } catch { throw Self.exportError(error) }
    }

    static func exportError(_ error: Failure) -> ExportError {
        switch error {
        case let .unterminatedQuote(line): .malformedCSV(line: line, reason: "a quoted field is never closed")
        case let .strayQuote(line): .malformedCSV(line: line, reason: "a quote character inside an unquoted field")
        case let .undecodable(line, byte, encoding): .undecodable(line: line, byte: byte, encoding: encoding)
        case .readError: .unreadable(path: "export", reason: "read error")
        }
    }
}

extension CSVRowReader {
    /// The next record, with reading failures as the ``ExportError`` an agency is shown.
    mutating func nextRecord() throws(ExportError) -> (line: Int, fields: [String])? {
        do { return try next() } catch {
            switch error {
            case let .unterminatedQuote(line): throw .malformedCSV(line: line, reason: "a quoted field is never closed")
            case let .strayQuote(line): throw .malformedCSV(line: line, reason: "a quote character inside an unquoted field")
            case let .undecodable(line, byte, encoding): throw .undecodable(line: line, byte: byte, encoding: encoding)
            case .readError: throw .unreadable(path: "export", reason: "read error")
            }
        }
    }
}
