import Foundation
import PlazoModel

/// The columns of an agency CSV export (`docs/agency-guide.md`). Any other column is dropped
/// before anything is sealed, and named in the summary, so that names, notes or addresses in an
/// export never leave the agency.
public enum ExportColumn: String, CaseIterable, Sendable {
    // Required.
    case caseID = "case_id"
    case event
    case date
    // Optional.
    case detail
    case offenceCategory = "offence_category"
    case victimAge = "victim_age"
    case victimAgeBand = "victim_age_band"
    case victimSex = "victim_sex"
    case state
    case reportChannel = "report_channel"
    case agencyType = "agency_type"
    case targetEvent = "target_event"
    case targetDetail = "target_detail"
    case targetDate = "target_date"

    /// Columns every export must have.
    public static let required: [ExportColumn] = [.caseID, .event, .date]

    /// Position in ``allCases`` (for per-column tables).
    var ordinal: Int {
        switch self {
        case .caseID: 0
        case .event: 1
        case .date: 2
        case .detail: 3
        case .offenceCategory: 4
        case .victimAge: 5
        case .victimAgeBand: 6
        case .victimSex: 7
        case .state: 8
        case .reportChannel: 9
        case .agencyType: 10
        case .targetEvent: 11
        case .targetDetail: 12
        case .targetDate: 13
        }
    }
}

/// A row that was not sealed, and why. `line` is the CSV record number counting the header as
/// line 1 (the text line number, unless a quoted field spans several lines).
public struct RowError: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    /// The column at fault, if one is.
    public let column: String?
    /// Stable machine-readable reason.
    public let code: String
    /// Human sentence (never contains the case identifier, nor any value of a column outside the
    /// documented set: notes and names never appear in an error).
    public let message: String
    /// The offending value of a coded, date or age column (for grouping), at most 40 characters;
    /// nil for the case identifier and for rows rejected whole.
    public let value: String?
    /// A close accepted value, for "did you mean".
    public let suggestion: String?

    public init(line: Int, column: String?, code: String, message: String, value: String? = nil, suggestion: String? = nil) {
        self.line = line
        self.column = column
        self.code = code
        self.message = message
        self.value = value.map { String($0.prefix(40)) }
        self.suggestion = suggestion
    }

    public var description: String {
        "line \(line)\(column.map { " (\($0))" } ?? ""): \(message)\(suggestion.map { "; did you mean \($0)?" } ?? "")"
    }
}

/// How to read an export: its separator and encoding, and what to do with cases whose report row
/// was rejected.
public struct ExportOptions: Sendable {
    /// The field separator; nil detects `,`, `;` or tab from the header line.
    public var delimiter: UInt8?
    /// `"utf-8"` (a byte-order mark is skipped) or `"windows-1252"`; nil (the default) detects
    /// it: UTF-8 when the export is valid UTF-8, otherwise Windows-1252.
    public var encoding: String?
    /// Seal the other rows of a case whose report row was rejected (default: hold the case back).
    public var allowPartialCases: Bool
    /// The office's mapping of columns, values and date formats, if any.
    public var mapping: ExportMapping?
    /// Keep a few values of each mapped column for ``ExportSummary/columns`` (the dry run's preview).
    public var preview = false
    /// Whether plainly valid rows are read from their bytes (``ExportReader/fastEvent(_:encoding:position:latestDay:cache:)``);
    /// off only in tests, to compare with the String path.
    var byteFastPath = true

    public init(delimiter: UInt8? = nil, encoding: String? = nil, allowPartialCases: Bool = false, mapping: ExportMapping? = nil) {
        self.delimiter = delimiter
        self.encoding = encoding
        self.allowPartialCases = allowPartialCases
        self.mapping = mapping
    }

    /// The encodings accepted.
    public static let encodings = ["utf-8", "windows-1252"]

    /// The reader's encoding: nil to detect it.
    func readerEncoding() throws(ExportError) -> CSVRowReader.Encoding? {
        guard let encoding else { return nil }
        guard let e = CSVRowReader.Encoding(rawValue: encoding.lowercased()) else { throw .unknownEncoding(encoding) }
        return e
    }
}

/// Errors that stop the reading of a whole export.
public enum ExportError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case noHeader
    case missingColumns([String])
    case duplicateColumn(String)
    case malformedCSV(line: Int, reason: String)
    case unknownEncoding(String)
    /// A byte that cannot be read in the export's encoding: nothing is sealed.
    case undecodable(line: Int, byte: UInt8, encoding: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case .noHeader: "the export is empty: it has no header row"
        case let .missingColumns(names): "the export lacks required column(s): \(names.joined(separator: ", "))"
        case let .duplicateColumn(name): "column \(name) appears twice in the header"
        case let .malformedCSV(line, reason): "the CSV is malformed at line \(line): \(reason)"
        case let .unknownEncoding(name): "unknown encoding '\(name)'; use one of \(ExportOptions.encodings.joined(separator: ", "))"
        case let .undecodable(line, byte, encoding):
            "line \(line) has a byte (0x\(String(byte, radix: 16, uppercase: true))) that cannot be read as \(encoding): the export mixes "
                + "encodings or uses another one, and nothing was sealed; save it again as UTF-8, or give its encoding with --encoding"
        }
    }
}

/// What reading an export found.
public struct ExportSummary: Sendable {
    /// Data rows read (not counting the header or blank lines).
    public var rows = 0
    /// Events produced.
    public var events = 0
    /// Every problem found, one per (row, problem): a row can have several (not sealed).
    public var rejected: [RowError] = []
    /// Rows rejected (distinct lines among ``rejected``, held-back rows included).
    public var rejectedRows = 0
    /// Cases held back whole because their report row was rejected (their other rows are in
    /// ``rejected`` as `case_without_report`).
    public var heldBackCases = 0
    /// The separator that was used (`,`, `;` or tab).
    public var delimiter: String = ","
    /// The encoding the export was read in (`utf-8` or `windows-1252`), given or detected.
    public var encoding: String = "utf-8"
    /// Values the mapping file translated, per Plazo column: export value → (Plazo value, rows).
    public var mappedValues: [String: [String: (to: String, rows: Int)]] = [:]
    /// Columns found in the export that are not in the documented set, dropped.
    public var droppedColumns: [String] = []
    /// Every column with a few values before and after the mapping, when ``ExportOptions/preview``
    /// asked for them (dropped columns without values).
    public var columns: [ColumnPreview] = []
    /// Distinct pseudonymous cases among the events.
    public var cases = 0
    /// Events by type.
    public var eventsByType: [EventType: Int] = [:]
    /// First and last event day.
    public var firstDay: Day?
    public var lastDay: Day?

    public init() {}
}
