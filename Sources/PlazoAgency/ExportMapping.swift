import Foundation
import PlazoModel
import Yams

/// How an office's own export maps onto Plazo's columns, codes and dates (`plazo seal --mapping
/// FILE`, format in `docs/agency-guide.md` §2.1). Written once per export layout, usually started
/// by `plazo seal --init-mapping export.csv`, and kept on the agency's machine.
///
/// ```yaml
/// columns:                  # export column: Plazo column
///   carpeta: case_id
///   evento: event
///   fecha: date
///   sexo: victim_sex
/// values:                   # per Plazo column, export value: Plazo value (label, number or Spanish label)
///   victim_sex:
///     M: female
///     H: male
/// dates:                    # per Plazo date column, or `all`
///   all: DD/MM/YYYY
/// delimiter: semicolon      # optional: comma, semicolon or tab
/// encoding: windows-1252    # optional
/// ```
public struct ExportMapping: Sendable, Decodable, Equatable {
    /// Export column name → Plazo column (``ExportColumn`` raw value).
    public var columns: [String: String]
    /// Plazo column → (export value → Plazo value).
    public var values: [String: [String: String]]
    /// Plazo date column (`date`, `target_date`) or `all` → format (see ``DateFormat``).
    public var dates: [String: String]
    /// Optional separator (`comma`, `semicolon`, `tab`).
    public var delimiter: String?
    /// Optional encoding (`utf-8`, `windows-1252`).
    public var encoding: String?

    public init(
        columns: [String: String] = [:], values: [String: [String: String]] = [:], dates: [String: String] = [:],
        delimiter: String? = nil, encoding: String? = nil
    ) {
        self.columns = columns
        self.values = values
        self.dates = dates
        self.delimiter = delimiter
        self.encoding = encoding
    }

    enum CodingKeys: String, CodingKey { case columns, values, dates, delimiter, encoding }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        columns = try c.decodeIfPresent([String: String].self, forKey: .columns) ?? [:]
        values = try c.decodeIfPresent([String: [String: String]].self, forKey: .values) ?? [:]
        dates = try c.decodeIfPresent([String: String].self, forKey: .dates) ?? [:]
        delimiter = try c.decodeIfPresent(String.self, forKey: .delimiter)
        encoding = try c.decodeIfPresent(String.self, forKey: .encoding)
    }

    /// Reads and checks a mapping file.
    public static func load(path: String) throws(MappingError) -> ExportMapping {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw .unreadable(path) }
        let mapping: ExportMapping
        do { mapping = try YAMLDecoder().decode(ExportMapping.self, from: text) } catch {
            throw .invalid("\(path) is not a mapping file: \(Self.explain(error))")
        }
        try mapping.validate()
        return mapping
    }

    static func explain(_ error: any Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c):
                return "at \(c.codingPath.map(\.stringValue).joined(separator: ".")): expected text values"
            case let .keyNotFound(k, _): return "missing \(k.stringValue)"
            @unknown default: return "unreadable"
            }
        }
        return "not valid YAML"
    }

    /// Refuses targets that are not Plazo columns, value maps for unknown columns, and date formats
    /// that cannot be read.
    public func validate() throws(MappingError) {
        let known = Set(ExportColumn.allCases.map(\.rawValue))
        for (from, to) in columns where !known.contains(to) {
            throw .invalid("columns: '\(from)' maps to '\(to)', which is not a Plazo column (\(ExportColumn.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for column in values.keys where !known.contains(column) {
            throw .invalid("values: '\(column)' is not a Plazo column")
        }
        if values[ExportColumn.caseID.rawValue] != nil { throw .invalid("values: case identifiers are never mapped") }
        for (column, format) in dates {
            guard column == "all" || column == "date" || column == "target_date" else {
                throw .invalid("dates: '\(column)' is not a date column (date, target_date or all)")
            }
            guard DateFormat(format) != nil else {
                throw .invalid("dates: '\(format)' is not a date format (for example DD/MM/YYYY, YYYY-MM-DD HH:MM:SS)")
            }
        }
        if let d = delimiter, !["comma", "semicolon", "tab", ",", ";"].contains(d.lowercased()) {
            throw .invalid("delimiter: '\(d)' (comma, semicolon or tab)")
        }
    }

    /// The Plazo column an export header names: the mapping's, else the header itself if it is one.
    func plazoColumn(forHeader header: String) -> ExportColumn? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if let target = columns[trimmed] ?? columns.first(where: { $0.key.vocabularyKey == trimmed.vocabularyKey })?.value {
            return ExportColumn(rawValue: target)
        }
        return nil
    }

    /// The value map of a column, keyed both exactly and by ``Swift/String/vocabularyKey``.
    func valueMap(for column: ExportColumn) -> [String: String]? {
        // An empty target is a TODO left in the file: the value then reads as written (and is
        // reported if it is not a label), never silently as unknown.
        guard let map = values[column.rawValue]?.filter({ !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }), !map.isEmpty else {
            return nil
        }
        var out = map
        for (k, v) in map where out[k.vocabularyKey] == nil { out["\u{1}" + k.vocabularyKey] = v }
        return out
    }

    /// The date format of a date column, if the mapping gives one.
    func dateFormat(for column: ExportColumn) -> DateFormat? {
        (dates[column.rawValue] ?? dates["all"]).flatMap(DateFormat.init)
    }
}

/// A mapping file that cannot be used.
public enum MappingError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(path): "cannot read the mapping file \(path)"
        case let .invalid(why): "mapping file: \(why)"
        }
    }
}

/// A day written as in an office's export: the tokens `YYYY`, `MM` (or `M`), `DD` (or `D`) in any
/// order with any separators (`DD/MM/YYYY`, `D-M-YYYY`, `MM/DD/YYYY`, `YYYY-MM-DD`). A time after a
/// space or `T` (`YYYY-MM-DD HH:MM:SS`) is ignored: Plazo records days.
public struct DateFormat: Sendable, Equatable {
    enum Part: Equatable { case year, month, day }
    let parts: [Part]
    /// The pattern as written.
    public let pattern: String

    /// Parses a pattern; nil if it is not a date pattern.
    public init?(_ pattern: String) {
        let datePart = pattern.split(whereSeparator: { $0 == " " || $0 == "T" }).first.map(String.init) ?? ""
        var parts: [Part] = []
        var token = ""
        func flush() -> Bool {
            defer { token = "" }
            switch token.uppercased() {
            case "": return true
            case "YYYY": parts.append(.year)
            case "MM", "M": parts.append(.month)
            case "DD", "D": parts.append(.day)
            default: return false
            }
            return true
        }
        for ch in datePart {
            if ch.isLetter { token.append(ch) } else if !flush() { return nil }
        }
        if !flush() { return nil }
        guard Set(parts).count == 3, parts.count == 3 else { return nil }
        self.parts = parts
        self.pattern = pattern
    }

    /// The day a value names, or nil.
    public func day(_ text: String) -> Day? {
        let datePart = text.split(whereSeparator: { $0 == " " || $0 == "T" }).first.map(String.init) ?? ""
        let numbers = datePart.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        var y = 0, m = 0, d = 0
        for (part, n) in zip(parts, numbers) {
            switch part {
            case .year: y = n
            case .month: m = n
            case .day: d = n
            }
        }
        guard y >= 1000 else { return nil }
        return Day(year: y, month: m, day: d)
    }
}
