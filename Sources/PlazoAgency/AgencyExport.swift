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
    /// UTF-8 (the default; a byte-order mark is skipped) or Windows-1252 (`"windows-1252"`).
    public var encoding: String
    /// Seal the other rows of a case whose report row was rejected (default: hold the case back).
    public var allowPartialCases: Bool
    /// The office's mapping of columns, values and date formats, if any.
    public var mapping: ExportMapping?

    public init(delimiter: UInt8? = nil, encoding: String = "utf-8", allowPartialCases: Bool = false, mapping: ExportMapping? = nil) {
        self.delimiter = delimiter
        self.encoding = encoding
        self.allowPartialCases = allowPartialCases
        self.mapping = mapping
    }

    /// The encodings accepted.
    public static let encodings = ["utf-8", "windows-1252"]
}

/// Errors that stop the reading of a whole export.
public enum ExportError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case noHeader
    case missingColumns([String])
    case duplicateColumn(String)
    case malformedCSV(line: Int, reason: String)
    case unknownEncoding(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case .noHeader: "the export is empty: it has no header row"
        case let .missingColumns(names): "the export lacks required column(s): \(names.joined(separator: ", "))"
        case let .duplicateColumn(name): "column \(name) appears twice in the header"
        case let .malformedCSV(line, reason): "the CSV is malformed at line \(line): \(reason)"
        case let .unknownEncoding(name): "unknown encoding '\(name)'; use one of \(ExportOptions.encodings.joined(separator: ", "))"
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
    /// Values the mapping file translated, per Plazo column: export value → (Plazo value, rows).
    public var mappedValues: [String: [String: (to: String, rows: Int)]] = [:]
    /// Columns found in the export that are not in the documented set, dropped.
    public var droppedColumns: [String] = []
    /// Distinct pseudonymous cases among the events.
    public var cases = 0
    /// Events by type.
    public var eventsByType: [EventType: Int] = [:]
    /// First and last event day.
    public var firstDay: Day?
    public var lastDay: Day?

    public init() {}
}

/// Reads an agency's CSV export, de-identifies and validates every row.
///
/// De-identification happens here, on the agency's machine: the case identifier becomes a
/// pseudonym, the victim's age in years becomes an age band, readable labels become codes, and
/// every undocumented column is dropped.
public struct ExportReader: Sendable {
    let pseudonymizer: Pseudonymizer
    let defaultAgencyType: AgencyType
    let today: Day

    /// - Parameters:
    ///   - pseudonymizer: keyed with the jurisdiction's linkage key.
    ///   - agencyType: the type recorded on events whose row has no `agency_type`.
    ///   - today: the current day; event days after tomorrow are errors.
    public init(pseudonymizer: Pseudonymizer, agencyType: AgencyType, today: Day) {
        self.pseudonymizer = pseudonymizer
        self.defaultAgencyType = agencyType
        self.today = today
    }

    /// Reads the export at `path`, calling `emit` with each valid event in file order.
    ///
    /// Whole cases: unless `options.allowPartialCases`, a case whose `report_received` row was
    /// rejected is held back whole, so that the service never receives a case without its report.
    /// Since a case's rows may come before its report row, valid events are first written to a
    /// spool file of fixed 32-byte records (``EventRecord``, in the temporary directory, deleted at
    /// the end), and emitted from it once the whole export has been read, without the held-back
    /// cases. The export is read once and memory stays bounded.
    public func read(path: String, options: ExportOptions = ExportOptions(), emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        guard FileManager.default.isReadableFile(atPath: path), let stream = InputStream(fileAtPath: path) else {
            throw ExportError.unreadable(path: path, reason: "no such file")
        }
        return try read(stream: stream, options: options, emit: emit)
    }

    /// Reads an export held in a string (tests, small inputs).
    public func read(string: String, options: ExportOptions = ExportOptions(), emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        try read(data: Data(string.utf8), options: options, emit: emit)
    }

    /// Reads an export held in memory.
    public func read(data: Data, options: ExportOptions = ExportOptions(), emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        try read(stream: InputStream(data: data), options: options, emit: emit)
    }

    /// Reads an export from a stream (see ``read(path:options:emit:)``).
    public func read(stream: InputStream, options: ExportOptions, emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        if options.allowPartialCases {
            return try pass(stream: stream, options: options) { _, event in try emit(event) }.summary
        }
        var spool = try EventSpool()
        defer { spool.remove() }
        let first = try pass(stream: stream, options: options) { line, event in try spool.append(line: line, event) }
        try spool.finishWriting()
        let held = first.withoutReport
        var summary = first.summary
        guard !held.isEmpty else {
            try spool.forEach(latestDay: today.adding(days: 1)) { _, event in try emit(event) }
            return summary
        }
        // Emit all but the held-back cases, recounting what is emitted and listing the rows held back.
        summary.events = 0
        summary.eventsByType = [:]
        summary.firstDay = nil
        summary.lastDay = nil
        var cases = Set<CasePseudonym>()
        var lines = Set(summary.rejected.map(\.line))
        try spool.forEach(latestDay: today.adding(days: 1)) { line, event in
            if let reportLine = held[event.pseudonym] {
                summary.rejected.append(RowError(
                    line: line, column: nil, code: "case_without_report",
                    message: "held back: this case's report row (line \(reportLine)) was rejected; fix it and seal again, or use --allow-partial-cases"))
                lines.insert(line)
                return
            }
            try emit(event)
            summary.events += 1
            summary.eventsByType[event.type, default: 0] += 1
            cases.insert(event.pseudonym)
            summary.firstDay = min(summary.firstDay ?? event.day, event.day)
            summary.lastDay = max(summary.lastDay ?? event.day, event.day)
        }
        summary.cases = cases.count
        summary.rejected.sort { $0.line < $1.line }
        summary.rejectedRows = lines.count
        summary.heldBackCases = held.count
        return summary
    }

    /// One pass over the export. Returns the summary and the cases whose report row was rejected.
    func pass(
        stream: InputStream, options: ExportOptions, emit: (Int, CaseEvent) throws -> Void
    ) throws -> (summary: ExportSummary, withoutReport: [CasePseudonym: Int]) {
        guard let encoding = CSVRowReader.Encoding(rawValue: options.encoding.lowercased()) else {
            throw ExportError.unknownEncoding(options.encoding)
        }
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: encoding)
        defer { stream.close() }
        func nextRow() throws -> (line: Int, fields: [String])? {
            do { return try reader.next() } catch {
                switch error {
                case let .unterminatedQuote(line): throw ExportError.malformedCSV(line: line, reason: "a quoted field is never closed")
                case let .strayQuote(line): throw ExportError.malformedCSV(line: line, reason: "a quote character inside an unquoted field")
                case .readError: throw ExportError.unreadable(path: "export", reason: "read error")
                }
            }
        }
        guard let (_, header) = try nextRow(), !(header.count == 1 && header[0].isEmpty) else { throw ExportError.noHeader }
        var summary = ExportSummary()
        summary.delimiter = reader.separator == 0x09 ? "tab" : String(UnicodeScalar(reader.separator))
        var index: [ExportColumn: Int] = [:]
        for (i, rawName) in header.enumerated() {
            let name = rawName.lowercased()
            if let column = options.mapping?.plazoColumn(forHeader: rawName) ?? ExportColumn(rawValue: name) {
                if index[column] != nil { throw ExportError.duplicateColumn(column.rawValue) }
                index[column] = i
            } else {
                summary.droppedColumns.append(rawName)
            }
        }
        var valueMaps: [ExportColumn: [String: String]] = [:]
        var dateFormats: [ExportColumn: DateFormat] = [:]
        if let mapping = options.mapping {
            for c in ExportColumn.allCases {
                valueMaps[c] = mapping.valueMap(for: c)
                dateFormats[c] = mapping.dateFormat(for: c)
            }
        }
        var mappedCounts: [ExportColumn: [String: (to: String, rows: Int)]] = [:]
        // Field positions by column ordinal (−1: absent): an array lookup per field, not a hash.
        var position = [Int](repeating: -1, count: ExportColumn.allCases.count)
        for (c, i) in index { position[c.ordinal] = i }
        let mapsValues = !valueMaps.isEmpty
        let missing = ExportColumn.required.filter { index[$0] == nil }.map(\.rawValue)
        if !missing.isEmpty {
            if header.count == 1, header[0].contains(";") || header[0].contains("\t") {
                throw ExportError.malformedCSV(line: 1, reason: "the header has one column; give the separator with --delimiter")
            }
            throw ExportError.missingColumns(missing)
        }

        let latestDay = today.adding(days: 1)
        var cases = Set<CasePseudonym>()
        var withoutReport: [CasePseudonym: Int] = [:]
        var rejectedLines = Set<Int>()
        var cache = ParseCache()
        while let (line, row) = try nextRow() {
            if row.allSatisfy({ $0.isEmpty }) { continue }  // blank line
            summary.rows += 1
            // Strict shape: a row with more or fewer fields than the header (an unquoted separator
            // in a notes column shifts every value after it) is rejected whole, and none of its
            // values is echoed.
            if row.count != header.count {
                summary.rejected.append(RowError(
                    line: line, column: nil, code: "field_count",
                    message: "the row has \(row.count) fields, the header has \(header.count) (a separator inside an unquoted value? quote it)"))
                rejectedLines.insert(line)
                continue
            }
            func field(_ c: ExportColumn) -> String {
                let i = position[c.ordinal]
                guard i >= 0 else { return "" }
                let raw = row[i]
                if mapsValues, let map = valueMaps[c], !raw.isEmpty, let to = map[raw] ?? map["\u{1}" + raw.vocabularyKey] {
                    return to
                }
                return raw
            }
            if mapsValues {
                for (c, map) in valueMaps {
                    guard let i = index[c], !row[i].isEmpty, let to = map[row[i]] ?? map["\u{1}" + row[i].vocabularyKey] else { continue }
                    mappedCounts[c, default: [:]][row[i], default: (to, 0)].rows += 1
                }
            }
            let parsed = parseRow(field, line: line, latestDay: latestDay, dateFormats: dateFormats, cache: &cache)
            switch parsed {
            case let .failure(problems):
                summary.rejected += problems.errors
                rejectedLines.insert(line)
                if let p = problems.reportOf { withoutReport[p] = withoutReport[p] ?? line }
            case let .success(event):
                try emit(line, event)
                summary.events += 1
                summary.eventsByType[event.type, default: 0] += 1
                cases.insert(event.pseudonym)
                summary.firstDay = min(summary.firstDay ?? event.day, event.day)
                summary.lastDay = max(summary.lastDay ?? event.day, event.day)
            }
        }
        summary.cases = cases.count
        for (c, counts) in mappedCounts { summary.mappedValues[c.rawValue] = counts }
        summary.rejectedRows = rejectedLines.count
        return (summary, withoutReport)
    }

    /// Parsed code values per column and text: exports repeat a few distinct values millions of
    /// times, and case identifiers come in runs (a case's events are usually together).
    struct ParseCache {
        /// Per column (``ExportColumn`` ordinal): text → code, or −1 for a value that does not parse.
        var codes = [[String: Int16]](repeating: [:], count: ExportColumn.allCases.count)
        /// The last case identifier and its pseudonym.
        var lastCaseID = ""
        var lastPseudonym: CasePseudonym?
    }

    /// Every problem of one rejected row, and the case's pseudonym when the row was its report.
    struct RowProblems: Error {
        var errors: [RowError]
        var reportOf: CasePseudonym?
    }

    /// Parses and validates one row, collecting every problem of the row (not only the first).
    func parseRow(
        _ field: (ExportColumn) -> String, line: Int, latestDay: Day, dateFormats: [ExportColumn: DateFormat] = [:],
        cache: inout ParseCache
    ) -> Result<CaseEvent, RowProblems> {
        var problems: [RowError] = []
        func fail(_ column: ExportColumn?, _ code: String, _ message: String, value: String? = nil, suggestion: String? = nil) {
            problems.append(RowError(line: line, column: column?.rawValue, code: code, message: message, value: value, suggestion: suggestion))
        }
        func code<C: VocabularyCode>(_ column: ExportColumn, _ type: C.Type, default value: C) -> C {
            let text = field(column)
            if text.isEmpty { return value }
            let slot = column.ordinal
            if let cached = cache.codes[slot][text], cached >= 0 { return C(rawValue: UInt8(cached))! }
            do throws(VocabularyError) {
                let parsed = try C.parse(text)
                cache.codes[slot][text] = Int16(parsed.rawValue)
                return parsed
            } catch {
                cache.codes[slot][text] = -1
                let reason = if case .ambiguous = error { "ambiguous_code" } else { "invalid_code" }
                fail(column, reason, error.description, value: text, suggestion: C.suggestion(for: text))
                return value
            }
        }
        func day(_ column: ExportColumn) -> Day? {
            let text = field(column)
            if text.isEmpty {
                fail(column, "missing_value", "\(column.rawValue) is empty")
                return nil
            }
            let format = dateFormats[column]
            guard let d = format.map({ $0.day(text) }) ?? Day(iso: text) else {
                if format == nil, let y = Int(text.prefix(4)), text.count == 10, y < 2000 {
                    fail(column, "date_before_2000", "\(column.rawValue) \(text) is before 2000-01-01", value: text)
                } else {
                    let hint = format == nil && text.contains("/") ? " (give the export's date format in a mapping file: dates: {all: DD/MM/YYYY})" : ""
                    fail(column, "malformed_date",
                         "\(column.rawValue) '\(text.prefix(20))' is not a date in \(format?.pattern ?? "YYYY-MM-DD") form\(hint)", value: text)
                }
                return nil
            }
            if d < Day(year: 2000, month: 1, day: 1)! {
                fail(column, "date_before_2000", "\(column.rawValue) \(text) is before 2000-01-01", value: text)
                return nil
            }
            if d > latestDay {
                fail(column, "date_in_future", "\(column.rawValue) \(text) is after tomorrow", value: text)
                return nil
            }
            return d
        }

        let caseText = field(.caseID)
        var pseudonym: CasePseudonym?
        if let last = cache.lastPseudonym, caseText == cache.lastCaseID {
            pseudonym = last
        } else {
            do {
                pseudonym = try pseudonymizer.pseudonym(forCaseID: caseText)
                cache.lastCaseID = caseText
                cache.lastPseudonym = pseudonym
            } catch {
                fail(.caseID, error.code, error.description)
            }
        }
        var type = EventType.reportReceived
        var typeKnown = false
        if field(.event).isEmpty {
            fail(.event, "missing_value", "event is empty")
        } else {
            let before = problems.count
            type = code(.event, EventType.self, default: .reportReceived)
            typeKnown = problems.count == before
        }
        let eventDay = day(.date)

        // Detail: parsed in the vocabulary of the event type.
        var detail: UInt8 = 0
        let detailText = field(.detail)
        if typeKnown, let vocabulary = type.detailAttribute {
            if !detailText.isEmpty {
                do { detail = try vocabulary.parseRaw(detailText) } catch {
                    fail(.detail, "invalid_code", error.description, value: detailText, suggestion: vocabulary.suggestion(for: detailText))
                }
            }
        } else if typeKnown, !detailText.isEmpty, detailText != "0" {
            fail(.detail, "unexpected_detail", "\(type.label.withIndefiniteArticle) event takes no detail", value: detailText)
        }

        // Victim age: a number of years becomes a band here, at the agency. Exports from
        // spreadsheets write whole numbers as "14.0": accepted when the fraction is zero.
        var band = code(.victimAgeBand, AgeBand.self, default: .unknown)
        let ageText = field(.victimAge)
        if !ageText.isEmpty {
            let whole = ageText.hasSuffix(".0") ? String(ageText.dropLast(2)) : ageText
            if let years = Int(whole) {
                if let fromAge = try? AgeBand.band(forAge: years) {
                    if band != .unknown, band != fromAge {
                        fail(.victimAgeBand, "age_band_conflict", "victim_age_band \(band.label) contradicts victim_age \(years)")
                    }
                    band = fromAge
                } else {
                    fail(.victimAge, "age_out_of_range", "victim_age \(years) is outside 0...17", value: ageText)
                }
            } else {
                fail(.victimAge, "malformed_age", "victim_age '\(ageText.prefix(10))' is not a whole number of years", value: ageText)
            }
        }

        let attributes = CaseAttributes(
            offence: code(.offenceCategory, OffenceCategory.self, default: .unknown),
            ageBand: band,
            sex: code(.victimSex, VictimSex.self, default: .unknown),
            state: code(.state, MexicanState.self, default: .unknown),
            channel: code(.reportChannel, ReportChannel.self, default: .unknown)
        )
        let agencyType = code(.agencyType, AgencyType.self, default: defaultAgencyType)

        var target: EventReference?
        let hasTarget = !field(.targetEvent).isEmpty || !field(.targetDate).isEmpty || !field(.targetDetail).isEmpty
        if typeKnown, type == .void {
            if field(.targetEvent).isEmpty {
                fail(.targetEvent, "void_without_target", "a void row must name target_event and target_date")
            } else {
                let before = problems.count
                let targetType = code(.targetEvent, EventType.self, default: .reportReceived)
                var targetDetail: UInt8 = 0
                if problems.count == before, let vocabulary = targetType.detailAttribute, !field(.targetDetail).isEmpty {
                    do { targetDetail = try vocabulary.parseRaw(field(.targetDetail)) } catch {
                        fail(.targetDetail, "invalid_code", error.description, value: field(.targetDetail))
                    }
                }
                if let targetDay = day(.targetDate) {
                    target = EventReference(type: targetType, detail: targetDetail, day: targetDay)
                }
            }
        } else if typeKnown, hasTarget {
            fail(.targetEvent, "target_on_non_void", "only void rows may have target_event, target_detail or target_date")
        }

        let reportOf = typeKnown && type == .reportReceived ? pseudonym : nil
        guard problems.isEmpty, let pseudonym, let eventDay else {
            return .failure(RowProblems(errors: problems, reportOf: reportOf))
        }
        let event = CaseEvent(
            pseudonym: pseudonym, type: type, detail: detail, day: eventDay,
            attributes: attributes, agencyType: agencyType, target: target
        )
        do { try event.validate(latestDay: latestDay) } catch {
            fail(nil, error.code, error.description)
            return .failure(RowProblems(errors: problems, reportOf: reportOf))
        }
        return .success(event)
    }
}

extension VocabularyCode {
    /// Parses a value and returns its raw code (for use through an existential metatype).
    static func parseRaw(_ text: String) throws(VocabularyError) -> UInt8 {
        try parse(text).rawValue
    }
}

extension String {
    /// The label with "a" or "an" before it ("an investigation_opened", "a void").
    var withIndefiniteArticle: String {
        guard let first = first?.lowercased() else { return self }
        return ("aeiou".contains(first) ? "an " : "a ") + self
    }
}

/// A temporary file of validated events, each as its line number (u32) and its 32-byte
/// ``EventRecord``: lets an export be read once while whole cases are held back.
struct EventSpool {
    static let recordBytes = 4 + EventRecord.byteCount
    let path: String
    let handle: FileHandle
    var buffer: [UInt8] = []

    init() throws {
        path = NSTemporaryDirectory() + "plazo-seal-\(UUID().uuidString).spool"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ExportError.unreadable(path: path, reason: "cannot create a spool file") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        buffer.reserveCapacity(1 << 16)
    }

    mutating func append(line: Int, _ event: CaseEvent) throws {
        let l = UInt32(clamping: line)
        for i in 0..<4 { buffer.append(UInt8(truncatingIfNeeded: l >> (8 * UInt32(i)))) }
        buffer += EventRecord.encode(event)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finishWriting() throws {
        try flush()
        try handle.seek(toOffset: 0)
    }

    /// Every spooled event in order, with its line.
    func forEach(latestDay: Day, _ body: (Int, CaseEvent) throws -> Void) throws {
        while let chunk = try handle.read(upToCount: Self.recordBytes * 2048), !chunk.isEmpty {
            let bytes = [UInt8](chunk)
            try bytes.withUnsafeBytes { raw in
                var at = 0
                while at + Self.recordBytes <= raw.count {
                    let line = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    // Validated before spooling; decoding cannot fail.
                    let event = try EventRecord.decode(raw, at: at + 4, latestDay: latestDay)
                    try body(line, event)
                    at += Self.recordBytes
                }
            }
        }
    }

    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension ExportReader {
    /// The agency's own case identifiers by pseudonym, from its export: how `plazo quality
    /// --export` turns the service's worklists (pseudonyms) back into case numbers, on the agency's
    /// machine. Only the case identifier column is read.
    public func caseIdentifiers(path: String, options: ExportOptions = ExportOptions()) throws -> [CasePseudonym: String] {
        guard let stream = InputStream(fileAtPath: path), FileManager.default.isReadableFile(atPath: path) else {
            throw ExportError.unreadable(path: path, reason: "no such file")
        }
        guard let encoding = CSVRowReader.Encoding(rawValue: options.encoding.lowercased()) else {
            throw ExportError.unknownEncoding(options.encoding)
        }
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: encoding)
        defer { stream.close() }
        func next() throws -> [String]? {
            do { return try reader.next()?.fields } catch {
                throw ExportError.malformedCSV(line: 0, reason: "\(error)")
            }
        }
        guard let header = try next() else { throw ExportError.noHeader }
        guard let column = header.firstIndex(where: {
            (options.mapping?.plazoColumn(forHeader: $0) ?? ExportColumn(rawValue: $0.lowercased())) == .caseID
        }) else { throw ExportError.missingColumns([ExportColumn.caseID.rawValue]) }
        var out: [CasePseudonym: String] = [:]
        var last = ""
        while let row = try next() {
            guard column < row.count, !row[column].isEmpty, row[column] != last else { continue }
            last = row[column]
            if let p = try? pseudonymizer.pseudonym(forCaseID: row[column]), out[p] == nil { out[p] = row[column] }
        }
        return out
    }
}
