import ArgumentParser
import Foundation
import PlazoAgency
import PlazoModel
import PlazoSodium
import PlazoWire

/// `plazo seal`: de-identifies an agency CSV export and writes sealed, signed batch files.
struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "De-identify an agency CSV export and write sealed, signed batch files.",
        discussion: """
            Reads the export (columns in docs/agency-guide.md), turns case identifiers into \
            pseudonyms with the linkage key, ages into age bands and labels into codes, drops every \
            undocumented column, validates every row, seals the records to the service key and signs \
            each batch with the agency key. Invalid rows are reported with their line number and \
            are not sealed.

            The separator (comma, semicolon or tab) is detected from the header unless given; \
            the encoding is detected (UTF-8, with or without a byte-order mark, when the export \
            is valid UTF-8; otherwise Windows-1252) unless --encoding is given, and an export with \
            a byte that cannot be read is refused naming its line. Labels may be the machine labels, the code numbers or the \
            Spanish labels of `plazo vocabulary --lang es`. Every problem of a row is reported, \
            then a summary grouped by column and value with suggestions; --report writes them all \
            as CSV. A row with more or fewer fields than the header is rejected whole. A case \
            whose report row was rejected is held back whole (case_without_report) unless \
            --allow-partial-cases.

            Exit status: 0 when every row was sealed; 3 when some rows were rejected or held back \
            (the valid ones were still sealed unless --dry-run); 1 on any other error.
            """
    )

    @Argument(help: "The agency's CSV export.")
    var export: String

    @Option(name: .long, help: "This agency's id in the service registry (from `plazo agencies add`).")
    var agencyID: UInt32?

    @Option(name: .long, help: "This agency's type, recorded on every event whose row has no agency_type (label or code).")
    var agencyType: String?

    @Option(name: .long, help: "The agency's signing secret key file (agency-signing.secret).")
    var signingKey: String?

    @Option(name: .long, help: "The service's box public key file (service-box.public).")
    var serviceKey: String?

    @Option(name: .long, help: "The jurisdiction's linkage key file.")
    var linkageKey: String?

    @Option(name: .long, help: "Directory for the batch files (default: next to the export).")
    var out: String?

    @Option(name: .long, help: "Records per batch (1...\(BatchFormat.maxRecords)).")
    var recordsPerBatch: Int = 10_000

    @Flag(name: .long, help: "Validate and print the summary without writing any batch, with a few values of each column as written and as read (case identifiers masked, dropped columns without values) and the decisions still open.")
    var dryRun = false

    @Option(name: .long, help: "Field separator: comma, semicolon or tab (default: detected from the header).")
    var delimiter: String?

    @Option(name: .long, help: "Text encoding of the export: utf-8 or windows-1252 (default: detected; UTF-8 if the export is valid UTF-8).")
    var encoding: String?

    @Flag(name: .long, help: "Seal the other rows of a case whose report row was rejected (default: hold the case back).")
    var allowPartialCases = false

    @Option(name: .long, help: "Write every problem found as CSV (line, column, reason, value, suggestion, message).")
    var report: String?

    @Option(name: .long, help: "A mapping file (YAML) from the export's columns, values and date formats to Plazo's (docs/agency-guide.md §2.1).")
    var mapping: String?

    @Flag(name: .long, help: "Print a starter mapping file for the export (guessed from its header and values; TODO marks what to check) and exit.")
    var initMapping = false

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if !initMapping {
            var missing: [String] = []
            if agencyID == nil { missing.append("--agency-id") }
            if agencyType == nil { missing.append("--agency-type") }
            if signingKey == nil { missing.append("--signing-key") }
            if serviceKey == nil { missing.append("--service-key") }
            if linkageKey == nil { missing.append("--linkage-key") }
            if !missing.isEmpty { throw ValidationError("missing \(missing.joined(separator: ", ")) (only --init-mapping works without them)") }
        }
        guard (1...BatchFormat.maxRecords).contains(recordsPerBatch) else {
            throw ValidationError("--records-per-batch must be within 1...\(BatchFormat.maxRecords)")
        }
        if let delimiter, Self.separator(delimiter) == nil {
            throw ValidationError("--delimiter takes comma, semicolon or tab (or the character itself)")
        }
        if let encoding, !ExportOptions.encodings.contains(encoding.lowercased()) {
            throw ValidationError("--encoding takes \(ExportOptions.encodings.joined(separator: " or "))")
        }
    }

    static func separator(_ name: String) -> UInt8? {
        switch name.lowercased() {
        case "comma", ",": 0x2C
        case "semicolon", ";": 0x3B
        case "tab", "\\t", "\t": 0x09
        default: nil
        }
    }

    func run() throws {
        let fileMapping: ExportMapping?
        do { fileMapping = try mapping.map { path throws(MappingError) in try ExportMapping.load(path: path) } } catch {
            throw ValidationError(error.description)
        }
        var options = ExportOptions(
            delimiter: (delimiter ?? fileMapping?.delimiter).flatMap(Self.separator),
            encoding: encoding ?? fileMapping?.encoding,
            allowPartialCases: allowPartialCases, mapping: fileMapping)
        options.preview = dryRun
        if initMapping {
            guard let stream = InputStream(fileAtPath: export), FileManager.default.isReadableFile(atPath: export) else {
                throw ValidationError("cannot read \(export)")
            }
            print(try MappingStarter.yaml(stream: stream, options: options), terminator: "")
            return
        }
        guard let agencyID, let agencyType, let signingKey, let serviceKey, let linkageKey else { throw ExitCode(1) }
        let type: AgencyType
        do { type = try AgencyType.parse(agencyType) } catch { throw ValidationError(error.description) }
        let linkage = try KeyFile.read(linkageKey, expecting: .linkage)
        let signer = try KeyFile.read(signingKey, expecting: .agencySigningSecret).signingKeyPair()
        let service = try KeyFile.read(serviceKey, expecting: .serviceBoxPublic).boxPublicKey()
        let now = Date()
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: linkage.key), agencyType: type,
            today: Day(unixSeconds: Int64(now.timeIntervalSince1970))!
        )
        let exportURL = URL(fileURLWithPath: export)
        let directory = out.map { URL(fileURLWithPath: $0) } ?? exportURL.deletingLastPathComponent()
        let prefix = exportURL.deletingPathExtension().lastPathComponent
        var writer: BatchFileWriter? = dryRun ? nil : try BatchFileWriter(
            directory: directory, prefix: prefix, agencyID: AgencyID(agencyID), signer: signer, service: service,
            maxRecords: recordsPerBatch, createdAt: Int64(now.timeIntervalSince1970)
        )
        let summary = try reader.read(path: export, options: options) { event in
            try writer?.add(event)
        }
        try writer?.flush()
        let batches = writer?.written ?? []
        if let report { try Self.writeReport(summary.rejected, to: report) }
        if json {
            try printJSON(summary, batches: batches, mapping: fileMapping)
        } else {
            printText(summary, batches: batches, mapping: fileMapping)
        }
        if !summary.rejected.isEmpty { throw ExitCode(3) }
    }

    /// Every problem as CSV, for a spreadsheet: line, column, reason, value, suggestion, message.
    static func writeReport(_ problems: [RowError], to path: String) throws {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var out = "line,column,reason,value,suggestion,message\n"
        for p in problems {
            out += "\(p.line),\(p.column ?? ""),\(p.code),\(quoted(p.value ?? "")),\(quoted(p.suggestion ?? "")),\(quoted(p.message))\n"
        }
        try Data(out.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Problems grouped by (column, reason, value), most frequent first: a clerk fixes a value once,
    /// not row by row.
    static func grouped(_ problems: [RowError]) -> [(column: String, code: String, value: String?, suggestion: String?, count: Int, firstLine: Int)] {
        struct Key: Hashable { var column: String; var code: String; var value: String? }
        var groups: [Key: (suggestion: String?, count: Int, firstLine: Int)] = [:]
        for p in problems {
            let key = Key(column: p.column ?? "(row)", code: p.code, value: p.value)
            let g = groups[key] ?? (p.suggestion, 0, p.line)
            groups[key] = (g.suggestion, g.count + 1, min(g.firstLine, p.line))
        }
        return groups.map { ($0.key.column, $0.key.code, $0.key.value, $0.value.suggestion, $0.value.count, $0.value.firstLine) }
            .sorted { ($0.count, -$0.firstLine) > ($1.count, -$1.firstLine) }
    }

    private func printText(_ s: ExportSummary, batches: [(path: String, batchID: BatchID, records: Int)], mapping: ExportMapping?) {
        print("rows read        \(s.rows)")
        print("events           \(s.events) in \(s.cases) case(s)\(s.firstDay.map { ", \($0) ... \(s.lastDay!)" } ?? "")")
        for type in EventType.allCases where s.eventsByType[type] != nil {
            print("  \(type.label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(s.eventsByType[type]!)")
        }
        if !s.droppedColumns.isEmpty {
            print("dropped columns  \(s.droppedColumns.joined(separator: ", ")) (not in the documented set; never sealed)")
        }
        print("separator        \(s.delimiter)")
        print("encoding         \(s.encoding)")
        if !s.columns.isEmpty {
            print("columns          a few values, as written → as read (case identifiers masked; dropped columns not shown)")
            let width = min(34, s.columns.map { $0.header.count + ($0.column.map { $0.count + 3 } ?? 0) }.max() ?? 0)
            for c in s.columns {
                let name = c.column.map { "\(c.header) → \($0)" } ?? c.header
                let values = c.column == nil ? "dropped, never sealed" : c.samples.isEmpty ? "(empty)" : c.samples.map { "\($0.before) → \($0.after)" }.joined(separator: "; ")
                print("  \(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0))  \(values)")
            }
        }
        if !s.mappedValues.isEmpty {
            print("mapped values    (mapping file)")
            for column in s.mappedValues.keys.sorted() {
                let values = s.mappedValues[column]!.sorted { $0.value.rows > $1.value.rows }
                print("  \(column): " + values.map { "'\($0.key)' → \($0.value.to) (\($0.value.rows))" }.joined(separator: ", "))
            }
        }
        print("rejected rows    \(s.rejectedRows)\(s.heldBackCases > 0 ? " (\(s.heldBackCases) case(s) held back whole: their report row was rejected)" : "")")
        for error in s.rejected.prefix(100) { print("  \(error)") }
        if s.rejected.count > 100 { print("  ... and \(s.rejected.count - 100) more problems (use --report FILE or --json for all)") }
        if !s.rejected.isEmpty {
            print("problems by column and value")
            for g in Self.grouped(s.rejected).prefix(30) {
                let value = g.value.map { " '\($0)'" } ?? ""
                let hint = g.suggestion.map { "; did you mean \($0)?" } ?? ""
                print("  \(g.count)× \(g.column) \(g.code)\(value) (first at line \(g.firstLine))\(hint)")
            }
        }
        if dryRun {
            let open = s.openDecisions(mapping: mapping)
            if !open.isEmpty {
                print("open decisions")
                for line in open { print("  - \(line)") }
            }
            print("dry run: no batch written")
        } else {
            print("batches written  \(batches.count)")
            for b in batches { print("  \(b.path)  \(b.records) records  batch \(b.batchID)") }
        }
    }

    private func printJSON(_ s: ExportSummary, batches: [(path: String, batchID: BatchID, records: Int)], mapping: ExportMapping?) throws {
        struct Sample: Encodable { var before: String; var after: String }
        struct Column: Encodable { var header: String; var column: String?; var samples: [Sample] }
        struct Problem: Encodable { var line: Int; var column: String?; var reason: String; var value: String?; var suggestion: String?; var message: String }
        struct Group: Encodable { var column: String; var reason: String; var value: String?; var suggestion: String?; var count: Int; var first_line: Int }
        struct Batch: Encodable { var path: String; var batch_id: String; var records: Int }
        struct Mapped: Encodable { var column: String; var from: String; var to: String; var rows: Int }
        struct Summary: Encodable {
            var mapped_values: [Mapped]
            var rows: Int; var events: Int; var cases: Int; var events_by_type: [String: Int]; var dropped_columns: [String]
            var columns: [Column]; var open_decisions: [String]
            var separator: String; var encoding: String; var rejected_rows: Int; var held_back_cases: Int
            var rejected: [Problem]; var problems_by_value: [Group]; var dry_run: Bool; var batches: [Batch]
        }
        var byType: [String: Int] = [:]
        for (k, v) in s.eventsByType { byType[k.label] = v }
        let mapped = s.mappedValues.keys.sorted().flatMap { c in
            s.mappedValues[c]!.sorted { $0.key < $1.key }.map { Mapped(column: c, from: $0.key, to: $0.value.to, rows: $0.value.rows) }
        }
        let summary = Summary(
            mapped_values: mapped, rows: s.rows, events: s.events, cases: s.cases, events_by_type: byType, dropped_columns: s.droppedColumns,
            columns: s.columns.map { c in Column(header: c.header, column: c.column, samples: c.samples.map { Sample(before: $0.before, after: $0.after) }) },
            open_decisions: dryRun ? s.openDecisions(mapping: mapping) : [],
            separator: s.delimiter, encoding: s.encoding, rejected_rows: s.rejectedRows, held_back_cases: s.heldBackCases,
            rejected: s.rejected.map { Problem(line: $0.line, column: $0.column, reason: $0.code, value: $0.value, suggestion: $0.suggestion, message: $0.message) },
            problems_by_value: Self.grouped(s.rejected).map {
                Group(column: $0.column, reason: $0.code, value: $0.value, suggestion: $0.suggestion, count: $0.count, first_line: $0.firstLine)
            },
            dry_run: dryRun, batches: batches.map { Batch(path: $0.path, batch_id: $0.batchID.hex, records: $0.records) })
        print(try PlazoJSON.text(summary))
    }
}
