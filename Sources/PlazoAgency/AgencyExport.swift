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
}

/// A row that was not sealed, and why. `line` is the CSV record number counting the header as
/// line 1 (the text line number, unless a quoted field spans several lines).
public struct RowError: Error, Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    /// The column at fault, if one is.
    public let column: String?
    /// Stable machine-readable reason.
    public let code: String
    /// Human sentence (never contains the case identifier).
    public let message: String

    public var description: String {
        "line \(line)\(column.map { " (\($0))" } ?? ""): \(message)"
    }
}

/// Errors that stop the reading of a whole export.
public enum ExportError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case noHeader
    case missingColumns([String])
    case duplicateColumn(String)
    case malformedCSV(line: Int, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case .noHeader: "the export is empty: it has no header row"
        case let .missingColumns(names): "the export lacks required column(s): \(names.joined(separator: ", "))"
        case let .duplicateColumn(name): "column \(name) appears twice in the header"
        case let .malformedCSV(line, reason): "the CSV is malformed at line \(line): \(reason)"
        }
    }
}

/// What reading an export found.
public struct ExportSummary: Sendable {
    /// Data rows read (not counting the header or blank lines).
    public var rows = 0
    /// Events produced.
    public var events = 0
    /// Rows that failed validation (not sealed).
    public var rejected: [RowError] = []
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
    public func read(path: String, emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        guard let stream = InputStream(fileAtPath: path) else {
            throw ExportError.unreadable(path: path, reason: "no such file")
        }
        return try read(stream: stream, emit: emit)
    }

    /// Reads an export held in a string (tests, small inputs).
    public func read(string: String, emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        try read(stream: InputStream(data: Data(string.utf8)), emit: emit)
    }

    /// Reads an export from a stream.
    public func read(stream: InputStream, emit: (CaseEvent) throws -> Void) throws -> ExportSummary {
        var reader = CSVRowReader(stream: stream)
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
        var index: [ExportColumn: Int] = [:]
        for (i, rawName) in header.enumerated() {
            let name = rawName.lowercased()
            if let column = ExportColumn(rawValue: name) {
                if index[column] != nil { throw ExportError.duplicateColumn(name) }
                index[column] = i
            } else {
                summary.droppedColumns.append(rawName)
            }
        }
        let missing = ExportColumn.required.filter { index[$0] == nil }.map(\.rawValue)
        if !missing.isEmpty { throw ExportError.missingColumns(missing) }

        let latestDay = today.adding(days: 1)
        var cases = Set<CasePseudonym>()
        while let (line, row) = try nextRow() {
            if row.allSatisfy({ $0.isEmpty }) { continue }  // blank line
            summary.rows += 1
            func field(_ c: ExportColumn) -> String {
                guard let i = index[c], i < row.count else { return "" }
                return row[i]
            }
            let event: CaseEvent
            do throws(RowError) {
                event = try parseRow(field, line: line, latestDay: latestDay)
            } catch {
                summary.rejected.append(error)
                continue
            }
            try emit(event)
            summary.events += 1
            summary.eventsByType[event.type, default: 0] += 1
            cases.insert(event.pseudonym)
            summary.firstDay = min(summary.firstDay ?? event.day, event.day)
            summary.lastDay = max(summary.lastDay ?? event.day, event.day)
        }
        summary.cases = cases.count
        return summary
    }

    func parseRow(_ field: (ExportColumn) -> String, line: Int, latestDay: Day) throws(RowError) -> CaseEvent {
        func fail(_ column: ExportColumn?, _ code: String, _ message: String) -> RowError {
            RowError(line: line, column: column?.rawValue, code: code, message: message)
        }
        func code<C: VocabularyCode>(_ column: ExportColumn, _ type: C.Type, default value: C) throws(RowError) -> C {
            let text = field(column)
            if text.isEmpty { return value }
            do { return try C.parse(text) } catch {
                throw fail(column, "invalid_code", error.description)
            }
        }
        func day(_ column: ExportColumn) throws(RowError) -> Day {
            let text = field(column)
            if text.isEmpty { throw fail(column, "missing_value", "\(column.rawValue) is empty") }
            guard let d = Day(iso: text) else {
                if let y = Int(text.prefix(4)), text.count == 10, y < 2000 {
                    throw fail(column, "date_before_2000", "\(column.rawValue) \(text) is before 2000-01-01")
                }
                throw fail(column, "malformed_date", "\(column.rawValue) '\(text.prefix(20))' is not a date in YYYY-MM-DD form")
            }
            if d > latestDay { throw fail(column, "date_in_future", "\(column.rawValue) \(text) is after tomorrow") }
            return d
        }

        let caseText = field(.caseID)
        let pseudonym: CasePseudonym
        do { pseudonym = try pseudonymizer.pseudonym(forCaseID: caseText) } catch {
            throw fail(.caseID, error.code, error.description)
        }
        if field(.event).isEmpty { throw fail(.event, "missing_value", "event is empty") }
        let type = try code(.event, EventType.self, default: .reportReceived)
        let eventDay = try day(.date)

        // Detail: parsed in the vocabulary of the event type.
        var detail: UInt8 = 0
        let detailText = field(.detail)
        if let vocabulary = type.detailAttribute {
            if !detailText.isEmpty {
                do { detail = try vocabulary.parseRaw(detailText) } catch {
                    throw fail(.detail, "invalid_code", error.description)
                }
            }
        } else if !detailText.isEmpty, detailText != "0" {
            throw fail(.detail, "unexpected_detail", "a \(type.label) event takes no detail")
        }

        // Victim age: a number of years becomes a band here, at the agency.
        var band = try code(.victimAgeBand, AgeBand.self, default: .unknown)
        let ageText = field(.victimAge)
        if !ageText.isEmpty {
            guard let years = Int(ageText) else {
                throw fail(.victimAge, "malformed_age", "victim_age '\(ageText.prefix(10))' is not a whole number of years")
            }
            let fromAge: AgeBand
            do { fromAge = try AgeBand.band(forAge: years) } catch {
                throw fail(.victimAge, "age_out_of_range", "victim_age \(years) is outside 0...17")
            }
            if band != .unknown, band != fromAge {
                throw fail(.victimAgeBand, "age_band_conflict", "victim_age_band \(band.label) contradicts victim_age \(years)")
            }
            band = fromAge
        }

        let attributes = CaseAttributes(
            offence: try code(.offenceCategory, OffenceCategory.self, default: .unknown),
            ageBand: band,
            sex: try code(.victimSex, VictimSex.self, default: .unknown),
            state: try code(.state, MexicanState.self, default: .unknown),
            channel: try code(.reportChannel, ReportChannel.self, default: .unknown)
        )
        let agencyType = try code(.agencyType, AgencyType.self, default: defaultAgencyType)

        var target: EventReference?
        let hasTarget = !field(.targetEvent).isEmpty || !field(.targetDate).isEmpty || !field(.targetDetail).isEmpty
        if type == .void {
            if field(.targetEvent).isEmpty { throw fail(.targetEvent, "void_without_target", "a void row must name target_event and target_date") }
            let targetType = try code(.targetEvent, EventType.self, default: .reportReceived)
            var targetDetail: UInt8 = 0
            if let vocabulary = targetType.detailAttribute, !field(.targetDetail).isEmpty {
                do { targetDetail = try vocabulary.parseRaw(field(.targetDetail)) } catch {
                    throw fail(.targetDetail, "invalid_code", error.description)
                }
            }
            target = EventReference(type: targetType, detail: targetDetail, day: try day(.targetDate))
        } else if hasTarget {
            throw fail(.targetEvent, "target_on_non_void", "only void rows may have target_event, target_detail or target_date")
        }

        let event = CaseEvent(
            pseudonym: pseudonym, type: type, detail: detail, day: eventDay,
            attributes: attributes, agencyType: agencyType, target: target
        )
        do { try event.validate(latestDay: latestDay) } catch {
            throw fail(nil, error.code, error.description)
        }
        return event
    }
}

extension VocabularyCode {
    /// Parses a value and returns its raw code (for use through an existential metatype).
    static func parseRaw(_ text: String) throws(VocabularyError) -> UInt8 {
        try parse(text).rawValue
    }
}
