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

            Exit status: 0 when every row was sealed; 3 when some rows were rejected (the valid \
            ones were still sealed unless --dry-run); 1 on any other error.
            """
    )

    @Argument(help: "The agency's CSV export.")
    var export: String

    @Option(name: .long, help: "This agency's id in the service registry (from `plazo agencies add`).")
    var agencyID: UInt32

    @Option(name: .long, help: "This agency's type, recorded on every event whose row has no agency_type (label or code).")
    var agencyType: String

    @Option(name: .long, help: "The agency's signing secret key file (agency-signing.secret).")
    var signingKey: String

    @Option(name: .long, help: "The service's box public key file (service-box.public).")
    var serviceKey: String

    @Option(name: .long, help: "The jurisdiction's linkage key file.")
    var linkageKey: String

    @Option(name: .long, help: "Directory for the batch files (default: next to the export).")
    var out: String?

    @Option(name: .long, help: "Records per batch (1...\(BatchFormat.maxRecords)).")
    var recordsPerBatch: Int = 10_000

    @Flag(name: .long, help: "Validate and print the summary without writing any batch.")
    var dryRun = false

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard (1...BatchFormat.maxRecords).contains(recordsPerBatch) else {
            throw ValidationError("--records-per-batch must be within 1...\(BatchFormat.maxRecords)")
        }
    }

    func run() throws {
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
            directory: directory, prefix: prefix, agencyID: agencyID, signer: signer, service: service,
            maxRecords: recordsPerBatch, createdAt: Int64(now.timeIntervalSince1970)
        )
        let summary = try reader.read(path: export) { event in try writer?.add(event) }
        try writer?.flush()
        let batches = writer?.written ?? []
        if json {
            try printJSON(summary, batches: batches)
        } else {
            printText(summary, batches: batches)
        }
        if !summary.rejected.isEmpty { throw ExitCode(3) }
    }

    private func printText(_ s: ExportSummary, batches: [(path: String, batchID: BatchID, records: Int)]) {
        print("rows read        \(s.rows)")
        print("events           \(s.events) in \(s.cases) case(s)\(s.firstDay.map { ", \($0) ... \(s.lastDay!)" } ?? "")")
        for type in EventType.allCases where s.eventsByType[type] != nil {
            print("  \(type.label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(s.eventsByType[type]!)")
        }
        if !s.droppedColumns.isEmpty {
            print("dropped columns  \(s.droppedColumns.joined(separator: ", ")) (not in the documented set; never sealed)")
        }
        print("rejected rows    \(s.rejected.count)")
        for error in s.rejected.prefix(100) { print("  \(error)") }
        if s.rejected.count > 100 { print("  ... and \(s.rejected.count - 100) more (use --json for all)") }
        if dryRun {
            print("dry run: no batch written")
        } else {
            print("batches written  \(batches.count)")
            for b in batches { print("  \(b.path)  \(b.records) records  batch \(b.batchID)") }
        }
    }

    private func printJSON(_ s: ExportSummary, batches: [(path: String, batchID: BatchID, records: Int)]) throws {
        var byType: [String: Int] = [:]
        for (k, v) in s.eventsByType { byType[k.label] = v }
        let summary = SealSummary(
            rows: s.rows, events: s.events, cases: s.cases, eventsByType: byType, droppedColumns: s.droppedColumns,
            rejected: s.rejected.map { SealSummary.Rejected(line: $0.line, column: $0.column, reason: $0.code, message: $0.message) },
            dryRun: dryRun, batches: batches.map { SealSummary.Batch(path: $0.path, batchID: $0.batchID.hex, records: $0.records) })
        print(try PlazoJSON.text(summary))
    }
}

/// `plazo seal --json`: what was read, rejected (line, column or `null`, reason) and written.
struct SealSummary: Encodable {
    struct Rejected: Encodable {
        var line: Int
        var column: String?
        var reason: String
        var message: String
        enum CodingKeys: String, CodingKey { case line, column, reason, message }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(line, forKey: .line)
            try c.encode(column, forKey: .column)  // null when the row as a whole is wrong
            try c.encode(reason, forKey: .reason)
            try c.encode(message, forKey: .message)
        }
    }

    struct Batch: Encodable {
        var path: String
        var batchID: String
        var records: Int
        enum CodingKeys: String, CodingKey { case path, batchID = "batch_id", records }
    }

    var rows: Int
    var events: Int
    var cases: Int
    var eventsByType: [String: Int]
    var droppedColumns: [String]
    var rejected: [Rejected]
    var dryRun: Bool
    var batches: [Batch]
    enum CodingKeys: String, CodingKey {
        case rows, events, cases, eventsByType = "events_by_type", droppedColumns = "dropped_columns", rejected, dryRun = "dry_run", batches
    }
}
