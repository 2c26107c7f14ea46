import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlazoAgency
import PlazoCases
import PlazoModel
import PlazoServer
import PlazoSodium
import PlazoWire

/// `plazo quality`: the agency's quality report and worklists from the service, with the
/// pseudonyms mapped back to the agency's own case numbers on its own machine.
struct QualityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Fetch this agency's quality report and worklists (its own cases only; a signed request).",
        discussion: """
            The service evaluates each case from this agency's own events only and returns: \
            findings (unmatched voids, cases without a report, conflicting attributes), records \
            rejected at ingest, and two worklists of open cases: no victim update in the last 90 \
            days, and waiting longest for a first decision. The lists hold pseudonyms: with \
            --export and --linkage-key, they are mapped back to your own case identifiers here, \
            from your export; the service never learns an identifier.
            """
    )

    @Option(name: .long, help: "The service's base URL.")
    var server: String

    @Option(name: .long, help: "This agency's id in the service registry.")
    var agencyID: UInt32

    @Option(name: .long, help: "The agency's signing secret key file.")
    var signingKey: String

    @OptionGroup var tlsOptions: TLSClientOptions

    @Option(name: .long, help: "Evaluate as of this day (YYYY-MM-DD; default today).")
    var cutoff: String?

    @Option(name: .long, help: "Cases per worklist (1-5000).")
    var limit: Int = 50

    @Option(name: .long, help: "Your export (CSV), to map pseudonyms back to your case identifiers.")
    var export: String?

    @Option(name: .long, help: "The linkage key file (needed with --export).")
    var linkageKey: String?

    @Option(name: .long, help: "The export's mapping file, if it has its own column names.")
    var mapping: String?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if export != nil, linkageKey == nil { throw ValidationError("--export needs --linkage-key") }
    }

    func run() async throws {
        let signer = try KeyFile.read(signingKey, expecting: .agencySigningSecret).signingKeyPair()
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        var url = "\(base)/v1/quality?limit=\(limit)"
        if let cutoff { url += "&cutoff=\(cutoff)" }
        var request = HTTPClientRequest(url: url)
        request.headers.add(
            name: "Authorization",
            value: try AgencyRequestSignature.qualityHeader(agencyID: agencyID, key: signer, time: Int64(Date().timeIntervalSince1970)))
        let client = try tlsOptions.makeClient()
        defer { _ = client.shutdown() }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(120))
            body = try await response.body.collect(upTo: 1 << 26)
        } catch {
            throw ValidationError(HTTPBatchTransport.explain(error, server: base))
        }
        let data = Data(Array(buffer: body))
        guard response.status.code == 200, let report = try? JSONDecoder().decode(AgencyQualityReport.self, from: data) else {
            throw ValidationError("the service refused: HTTP \(response.status.code): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        var identifiers: [String: String] = [:]
        if let export, let linkageKey {
            let key = try KeyFile.read(linkageKey, expecting: .linkage)
            let fileMapping = try mapping.map { path throws(MappingError) in try ExportMapping.load(path: path) }
            let reader = ExportReader(
                pseudonymizer: try Pseudonymizer(linkageKey: key.key), agencyType: .unknown,
                today: Day(unixSeconds: Int64(Date().timeIntervalSince1970))!)
            for (p, id) in try reader.caseIdentifiers(path: export, options: ExportOptions(mapping: fileMapping)) { identifiers[p.hex] = id }
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("agency \(report.agency), as of \(report.cutoff): \(report.cases) cases, \(report.events) events, \(report.openCases) open")
        print("findings (from your own events):")
        for (code, n) in report.findings.sorted(by: { $0.key < $1.key }) where n > 0 { print("  \(code): \(n)") }
        if !report.rejectedAtIngest.isEmpty {
            print("records rejected at ingest:")
            for (code, n) in report.rejectedAtIngest.sorted(by: { $0.key < $1.key }) { print("  \(code): \(n)") }
        }
        func show(_ title: String, _ items: [AgencyQualityReport.WorkItem], total: Int) {
            print("\(title): \(total) case(s)\(total > items.count ? ", the first \(items.count)" : "")")
            for item in items {
                let who = identifiers[item.pseudonym] ?? "case \(item.pseudonym)"
                print("  \(who)  reported \(item.reportDay) (\(item.daysSinceReport) days), last victim update \(item.lastVictimUpdate ?? "never") (\(item.daysSinceContact) days since contact)")
            }
        }
        show("open, no victim update in 90 days", report.noVictimUpdate90Days, total: report.noVictimUpdate90DaysTotal)
        show("open, waiting longest for a first decision", report.longestWaitingForDecision, total: report.longestWaitingForDecisionTotal)
        if export == nil { print("(give --export and --linkage-key to see your own case identifiers instead of pseudonyms)") }
    }
}
