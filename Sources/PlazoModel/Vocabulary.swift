import Synchronization

/// A coded attribute of the event vocabulary v1 (`specs/events.md`).
///
/// Every code has a stable number (its raw value, one byte on the wire), a stable machine label
/// (snake_case, accepted in agency CSV exports) and a documented meaning. Code 0 is "unknown" for
/// every attribute that can be unknown; a number that is not in the list is an error, never
/// silently mapped to unknown.
public protocol VocabularyCode: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible
where RawValue == UInt8 {
    /// The attribute's name as used in specs, CSV headers and error messages (`offence_category`).
    static var attributeName: String { get }
    /// Every code's row: its label, meaning and Spanish label, one row per code in code order.
    /// The only place these words are written; ``label``, ``meaning`` and ``spanishLabel`` read it.
    static var vocabulary: VocabularyTable<Self> { get }
    /// Other accepted spellings, by ``Swift/String/vocabularyKey`` (synonyms, short forms).
    static var aliases: [String: Self] { get }
    /// Values that mean different codes to different offices, by key, with the sentence that says
    /// why they are refused (a mapping file must say what the agency means).
    static var ambiguous: [String: String] { get }
}

extension VocabularyCode {
    public static var aliases: [String: Self] { [:] }
    public static var ambiguous: [String: String] { [:] }
}

extension VocabularyCode {
    /// The stable machine label of this code (`online_grooming`).
    public var label: String { Self.vocabulary[self].label }
    /// A short human meaning of this code.
    public var meaning: String { Self.vocabulary[self].meaning }
    /// The Spanish label (`specs/events.md`, "etiqueta (es)"), accepted in exports.
    public var spanishLabel: String { Self.vocabulary[self].spanishLabel }
}

/// One code of a vocabulary: its number (through `code`), machine label, meaning and Spanish label.
public struct VocabularyRow<Code: RawRepresentable & Sendable>: Sendable where Code.RawValue == UInt8 {
    public let code: Code
    /// The stable machine label (snake_case, or the code's own spelling such as `13-15` or `09`).
    public let label: String
    /// A short human meaning.
    public let meaning: String
    /// The Spanish label (`specs/events.md`, "etiqueta (es)").
    public let spanishLabel: String

    public init(_ code: Code, _ label: String, meaning: String, es spanishLabel: String) {
        self.code = code
        self.label = label
        self.meaning = meaning
        self.spanishLabel = spanishLabel
    }
}

/// A vocabulary as a table: one row per code, in the order of `allCases`, looked up by code number.
/// Building it checks that every code has exactly one row (a missing or repeated row stops the
/// program at the table's first use, which every vocabulary test makes).
public struct VocabularyTable<Code: RawRepresentable & CaseIterable & Sendable>: Sendable where Code.RawValue == UInt8 {
    /// The rows, in code order.
    public let rows: [VocabularyRow<Code>]
    /// For each possible code number, its row's position in `rows`, or -1.
    private let position: [Int16]

    public init(_ rows: [VocabularyRow<Code>]) {
        var position = [Int16](repeating: -1, count: 256)
        for (i, row) in rows.enumerated() {
            precondition(position[Int(row.code.rawValue)] < 0, "\(Code.self): code \(row.code.rawValue) has two rows")
            position[Int(row.code.rawValue)] = Int16(i)
        }
        precondition(
            rows.map(\.code.rawValue) == Code.allCases.map(\.rawValue),
            "\(Code.self): the rows must be exactly the codes, in the order of allCases")
        self.rows = rows
        self.position = position
    }

    /// The row of `code`.
    public subscript(code: Code) -> VocabularyRow<Code> { rows[Int(position[Int(code.rawValue)])] }
}

/// Per-type lookup tables from ``Swift/String/vocabularyKey`` to code number, built once.
private let keyTables = Mutex<[ObjectIdentifier: [String: UInt8]]>([:])

extension VocabularyCode {
    /// Every accepted spelling of every code, by key: machine labels, Spanish labels, aliases.
    static var keyTable: [String: UInt8] {
        if let table = keyTables.withLock({ $0[ObjectIdentifier(Self.self)] }) { return table }
        var table: [String: UInt8] = [:]
        for (key, code) in aliases { table[key] = code.rawValue }
        for code in allCases {
            table[code.spanishLabel.vocabularyKey] = code.rawValue
            table[code.label.vocabularyKey] = code.rawValue
        }
        keyTables.withLock { $0[ObjectIdentifier(Self.self)] = table }
        return table
    }
}

extension VocabularyCode {
    public var description: String { label }

    /// Looks a code up by its number, or throws ``VocabularyError/codeOutOfRange(attribute:value:)``.
    public static func decode(_ raw: UInt8) throws(VocabularyError) -> Self {
        guard let code = Self(rawValue: raw) else {
            throw .codeOutOfRange(attribute: attributeName, value: Int(raw))
        }
        return code
    }

    /// Parses an agency's value: a machine label (`"online_grooming"`, `"13-15"`, `"09"`;
    /// case-insensitive), a decimal code number (`"4"`, `"04"`), or a label with `-` and spaces
    /// read as `_` (`"Online Grooming"`). Labels are tried first, so a state label `"09"` and
    /// an age-band label `"13-15"` read as labels. An empty value is
    /// not accepted here; callers decide whether an empty cell means unknown.
    public static func parse(_ text: String) throws(VocabularyError) -> Self {
        let trimmed = text.trimmingASCIIWhitespace()
        let lowered = trimmed.lowercased()
        if let code = allCases.first(where: { $0.label == lowered }) { return code }
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard trimmed.utf8.count <= 3, let number = Int(trimmed), number <= 255,
                let code = Self(rawValue: UInt8(number))
            else { throw .codeOutOfRange(attribute: attributeName, value: Int(trimmed.prefix(9)) ?? Int.max) }
            return code
        }
        let normalised = String(
            lowered.map { ($0 == "-" || $0 == " ") ? "_" : $0 }
        )
        if let code = allCases.first(where: { $0.label == normalised }) { return code }
        // Spanish labels, aliases, any case, accents or punctuation.
        let key = trimmed.vocabularyKey
        if let advice = ambiguous[key] { throw .ambiguous(attribute: attributeName, label: String(trimmed.prefix(40)), advice: advice) }
        if let raw = keyTable[key], let code = Self(rawValue: raw) { return code }
        throw .unknownLabel(attribute: attributeName, label: String(trimmed.prefix(40)))
    }

    /// The closest accepted spelling to `text` (edit distance on keys, at most a third of its
    /// length), for "did you mean" hints; nil when nothing is close.
    public static func suggestion(for text: String) -> String? {
        let key = text.vocabularyKey
        guard !key.isEmpty else { return nil }
        var best: (distance: Int, code: Self)?
        for (candidate, raw) in keyTable {
            let d = editDistance(key, candidate)
            if d <= max(1, key.count / 3), best == nil || d < best!.distance, let code = Self(rawValue: raw) { best = (d, code) }
        }
        return best.map { "\($0.code.label) (\($0.code.spanishLabel))" }
    }
}

/// Errors in coded values.
public enum VocabularyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A number that is not a code of this attribute.
    case codeOutOfRange(attribute: String, value: Int)
    /// A label that is not a code of this attribute.
    case unknownLabel(attribute: String, label: String)
    /// A value that means different codes to different offices (e.g. `M`); `advice` says what to do.
    case ambiguous(attribute: String, label: String, advice: String)

    public var description: String {
        switch self {
        case let .codeOutOfRange(attribute, value): "\(value) is not a valid \(attribute) code"
        case let .unknownLabel(attribute, label): "'\(label)' is not a valid \(attribute) label"
        case let .ambiguous(_, _, advice): advice
        }
    }
}

/// Levenshtein distance between two short strings (for suggestions).
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.utf8), y = Array(b.utf8)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count), current = previous
    for i in 1...x.count {
        current[0] = i
        for j in 1...y.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" || first == "\r" || first == "\n" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" || last == "\r" || last == "\n" { view.removeLast() }
        return String(view)
    }
}
