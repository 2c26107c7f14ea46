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
    /// Optional encoding (`utf-8`, `windows-1252`); without it the export's is detected.
    public var encoding: String?
    /// The line of each entry in the file the mapping was loaded from (see ``lineKey(_:)``), so
    /// that a refusal names it; empty for a mapping built in code.
    var sourceLines: [String: Int] = [:]

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
        var located = mapping
        located.sourceLines = try entryLines(of: text)
        try located.validate()
        return located
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
    /// A refusal at a line of the mapping file.
    case invalidAt(line: Int, String)

    public var description: String {
        switch self {
        case let .unreadable(path): "cannot read the mapping file \(path)"
        case let .invalid(why): "mapping file: \(why)"
        case let .invalidAt(line, why): "mapping file, line \(line): \(why)"
        }
    }

    /// The line of the mapping file the refusal names, if any.
    public var line: Int? {
        if case let .invalidAt(line, _) = self { return line }
        return nil
    }
}
