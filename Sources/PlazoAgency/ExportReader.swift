import Foundation
import PlazoModel

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
        // The events are counted once, as they leave the spool.
        let first = try pass(stream: stream, options: options, tally: false) { line, event in try spool.append(line: line, event) }
        try spool.finishWriting()
        let held = first.withoutReport
        var summary = first.summary
        guard !held.isEmpty else {
            var tally = EventTally()
            try spool.forEach(latestDay: today.adding(days: 1)) { _, event in
                try emit(event)
                tally.add(event)
            }
            tally.write(into: &summary)
            return summary
        }
        // Emit all but the held-back cases, recounting what is emitted and listing the rows held back.
        var tally = EventTally()
        // A case counts as held back when its report row was surely rejected, or when a row of it
        // was held back for a wrong-width row that may have been its report.
        var heldCases = Set(held.filter(\.value.certain).keys)
        var lines = Set(summary.rejected.map(\.line))
        try spool.forEach(latestDay: today.adding(days: 1)) { line, event in
            if let lost = held[event.pseudonym] {
                let why = lost.certain
                    ? "this case's report row (line \(lost.line)) was rejected"
                    : "line \(lost.line), which may be this case's report row, was rejected for its number of fields"
                summary.rejected.append(RowError(
                    line: line, column: nil, code: "case_without_report",
                    message: "held back: \(why); fix it and seal again, or use --allow-partial-cases"))
                lines.insert(line)
                heldCases.insert(event.pseudonym)
                return
            }
            try emit(event)
            tally.add(event)
        }
        tally.write(into: &summary)
        summary.rejected.sort { $0.line < $1.line }
        summary.rejectedRows = lines.count
        summary.heldBackCases = heldCases.count
        return summary
    }

    /// One pass over the export. Returns the summary and the cases whose report row was rejected.
    func pass(
        stream: InputStream, options: ExportOptions, tally counting: Bool = true, emit: (Int, CaseEvent) throws -> Void
    ) throws -> (summary: ExportSummary, withoutReport: [CasePseudonym: LostReport]) {
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: try options.readerEncoding())
        defer { stream.close() }
        func nextRow() throws(ExportError) -> (line: Int, fields: [String])? { try reader.nextRecord() }
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
        // The preview: a few distinct raw values per kept column (dropped columns keep none).
        let kept: [(i: Int, column: ExportColumn)] = options.preview ? index.map { ($0.value, $0.key) }.sorted { $0.i < $1.i } : []
        var samples = [[String]](repeating: [], count: options.preview ? header.count : 0)
        let missing = ExportColumn.required.filter { index[$0] == nil }.map(\.rawValue)
        if !missing.isEmpty {
            if header.count == 1, header[0].contains(";") || header[0].contains("\t") {
                throw ExportError.malformedCSV(line: 1, reason: "the header has one column; give the separator with --delimiter")
            }
            throw ExportError.missingColumns(missing)
        }

        let latestDay = today.adding(days: 1)
        var tally = EventTally()
        var withoutReport: [CasePseudonym: LostReport] = [:]
        var rejectedLines = Set<Int>()
        var cache = ParseCache()
        // Rows are read as bytes; in the common case (no mapping, a plainly valid row) the event is
        // made from the bytes through byte-keyed caches, with no String per field. Any other row
        // is turned into Strings and read as always.
        let fast = options.mapping == nil && options.byteFastPath
        var fastCache = FastCache()
        var record = CSVRowReader.RawRecord()
        while try reader.nextRecord(into: &record) {
            let line = record.line
            if record.isBlank { continue }  // blank line
            summary.rows += 1
            if record.count == header.count {
                for (i, _) in kept where samples[i].count < Self.previewSamples && record.ends[i] > record.starts[i] {
                    let value = reader.string(record, i)
                    if !samples[i].contains(value) { samples[i].append(value) }
                }
                if fast, let event = fastEvent(record, encoding: reader.encoding, position: position, latestDay: latestDay, cache: &fastCache) {
                    try emit(line, event)
                    if counting { tally.add(event) }
                    continue
                }
            }
            let row = reader.strings(record)
            // Strict shape: a row with more or fewer fields than the header (an unquoted separator
            // in a notes column shifts every value after it) is rejected whole, and none of its
            // values is echoed.
            if row.count != header.count {
                summary.rejected.append(RowError(
                    line: line, column: nil, code: "field_count",
                    message: "the row has \(row.count) fields, the header has \(header.count) (a separator inside an unquoted value? quote it)"))
                rejectedLines.insert(line)
                // Whole cases: the row may have been a case's report; hold that case back (its
                // identifier is read only for that, and nothing of the row is sealed or echoed).
                for p in casesPossiblyLosingReport(
                    row: row, headerCount: header.count, caseColumn: position[ExportColumn.caseID.ordinal],
                    eventColumn: position[ExportColumn.event.ordinal], eventMap: valueMaps[.event]
                ) where withoutReport[p] == nil {
                    withoutReport[p] = LostReport(line: line, certain: false)
                }
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
                if let p = problems.reportOf, withoutReport[p]?.certain != true { withoutReport[p] = LostReport(line: line, certain: true) }
            case let .success(event):
                try emit(line, event)
                if counting { tally.add(event) }
            }
        }
        if counting { tally.write(into: &summary) }
        summary.encoding = reader.encodingUsed.rawValue
        if options.preview {
            let byIndex = Dictionary(uniqueKeysWithValues: kept.map { ($0.i, $0.column) })
            summary.columns = header.indices.map { i in
                guard let c = byIndex[i] else { return ColumnPreview(header: header[i], column: nil, samples: []) }
                return ColumnPreview(header: header[i], column: c.rawValue, samples: samples[i].map {
                    preview($0, column: c, valueMap: valueMaps[c], format: dateFormats[c])
                })
            }
        }
        for (c, counts) in mappedCounts { summary.mappedValues[c.rawValue] = counts }
        summary.rejectedRows = rejectedLines.count
        return (summary, withoutReport)
    }
}

/// Counts of the events emitted, kept cheaply per event: a fixed array by type, and the set of
/// cases touched only when the case changes (a case's events usually come together).
struct EventTally {
    var events = 0
    var byType = [Int](repeating: 0, count: 256)
    var cases = Set<CasePseudonym>()
    var last: CasePseudonym?
    var firstDay: Day?
    var lastDay: Day?

    mutating func add(_ event: CaseEvent) {
        events += 1
        byType[Int(event.type.rawValue)] += 1
        if event.pseudonym != last {
            cases.insert(event.pseudonym)
            last = event.pseudonym
        }
        if firstDay == nil || event.day < firstDay! { firstDay = event.day }
        if lastDay == nil || event.day > lastDay! { lastDay = event.day }
    }

    func write(into summary: inout ExportSummary) {
        summary.events = events
        summary.eventsByType = [:]
        for type in EventType.allCases where byType[Int(type.rawValue)] > 0 { summary.eventsByType[type] = byType[Int(type.rawValue)] }
        summary.cases = cases.count
        summary.firstDay = firstDay
        summary.lastDay = lastDay
    }
}
