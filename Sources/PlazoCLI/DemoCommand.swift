import ArgumentParser
import AsyncHTTPClient
import Foundation
import ServiceLifecycle
import UnixSignals
import Hummingbird
import Logging
import PlazoAgency
import PlazoApp
import PlazoIngest
import PlazoModel
import PlazoServer
import PlazoSodium
import PlazoStore
import PlazoSynth
import PlazoWire

/// `plazo demo`: the whole job, end to end, on the embedded SQLite default.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Plazo end to end on synthetic data: keys, service, agencies, sealing, submission, a private release.",
        discussion: """
            Creates keys, starts the service on the embedded SQLite store, registers four synthetic \
            agencies, generates their exports, de-identifies, seals and submits each one through \
            the real HTTP API, creates a quarterly differentially private release, prints a summary \
            and keeps serving until interrupted (--exit stops after the summary). Everything is \
            written under --dir, which is emptied first.
            """
    )

    @Option(name: .long, help: "Working directory (emptied first).")
    var dir: String = "plazo-demo"

    @Option(name: .long, help: "Number of synthetic cases.")
    var cases: Int = 300_000

    @Option(name: .long, help: "Seed of the synthetic data.")
    var seed: UInt64 = 2026

    @Option(name: .long, help: "Port to serve on (0 picks a free one).")
    var port: Int = 8080

    @Flag(name: .long, help: "Stop after the summary instead of serving until interrupted.")
    var exit = false

    /// Whether a TCP port on 127.0.0.1 can be bound now.
    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Unbuffered, so that lines interleave correctly with the progress shown on standard error.
    func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    func run() async throws {
        let started = Date()
        let fm = FileManager.default
        let root = URL(fileURLWithPath: dir)
        if fm.fileExists(atPath: root.path) { try fm.removeItem(at: root) }
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        func path(_ p: String) -> String { root.appendingPathComponent(p).path }
        let now = Int64(Date().timeIntervalSince1970)
        let today = Day(unixSeconds: now)!

        // 1. Keys: the service's, each agency's, the jurisdiction's linkage key.
        say("== 1. keys")
        let (serviceBox, serviceSigning) = try KeysCommand.Service.create(in: path("keys"), report: false)
        let linkage = try SecretBytes.random(count: 32)
        let pseudonymizer = try Pseudonymizer(linkageKey: linkage)
        say("   service box key \(KeyID.of(serviceBox.publicKey)), receipt key \(KeyID.of(serviceSigning.publicKey)), linkage key \(KeyFile.linkageKeyID(linkage)) (agencies only)")

        // 2. The store and the service.
        say("== 2. service on the embedded SQLite store (\(path("plazo.sqlite")))")
        let database = try AppDatabase.open(path: path("plazo.sqlite"))
        let registry = AgencyRegistry(database)
        var agencyKeys: [(id: AgencyID, key: SigningKeyPair, agency: SynthAgency)] = []
        for agency in SyntheticJurisdiction.agencies {
            let key = try SigningKeyPair.generate()
            let record = try await registry.add(name: agency.name, type: try AgencyType.parse(agency.type), publicKey: key.publicKey, now: now)
            agencyKeys.append((record.id, key, agency))
            say("   registered agency \(record.id.rawValue): \(agency.name) [\(agency.type)] key \(KeyID.of(key.publicKey))")
        }
        let service = try await PlazoService(database: database, serviceKeys: [serviceBox], receiptKey: serviceSigning)
        var logger = Logger(label: "plazo")
        logger.logLevel = .warning
        // A newcomer's machine may already use 8080: then take any free port rather than fail.
        let requestedPort = port != 0 && !Self.portIsFree(port) ? 0 : port
        if requestedPort != port { say("   port \(port) is in use; using a free port instead") }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(service: service, configuration: ServerConfiguration(host: "127.0.0.1", port: requestedPort), logger: logger) { bound in
            portContinuation.yield(bound)
        }
        // A service group, so that --exit (and Ctrl-C or SIGTERM) shut the server down gracefully:
        // in-flight requests finish and nothing is logged as an error. Cancelling the task instead
        // made Hummingbird log "Waiting on child channel: CancellationError()".
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let server = Task {
            // If the server cannot start, end the port stream so that the demo fails instead of waiting.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var portIterator = ports.makeAsyncIterator()
        guard let boundPort = await portIterator.next() else {
            _ = try await server.value
            throw ValidationError("the server did not start")
        }
        let base = "http://127.0.0.1:\(boundPort)"
        say("   listening on \(base)")

        // 3. Synthetic exports.
        say("== 3. synthetic exports: \(cases) cases, seed \(seed)")
        let synth = try SynthWriter.write(
            SynthConfiguration(cases: cases, seed: seed, firstDay: Day(year: today.civil.year - 3, month: 1, day: 1)!, cutoff: today),
            to: root.appendingPathComponent("exports")
        )
        say("   \(synth.rows) rows across \(SyntheticJurisdiction.agencies.count) agencies")

        // 4. Each agency de-identifies, seals and signs its export on "its own machine".
        say("== 4. de-identify, validate, seal and sign (per agency)")
        var files: [String] = []
        var rejectedByReason: [String: Int] = [:]
        var dropped = Set<String>()
        for (id, key, agency) in agencyKeys {
            let reader = ExportReader(pseudonymizer: pseudonymizer, agencyType: try AgencyType.parse(agency.type), today: today)
            var writer = try BatchFileWriter(
                directory: root.appendingPathComponent("outbox"), prefix: (agency.file as NSString).deletingPathExtension,
                agencyID: id, signer: key, service: serviceBox.publicKey, maxRecords: 10_000, createdAt: now
            )
            let summary = try reader.read(
                path: root.appendingPathComponent("exports").appendingPathComponent(agency.file).path
            ) { try writer.add($0) }
            try writer.flush()
            files += writer.written.map(\.path)
            for r in summary.rejected { rejectedByReason[r.code, default: 0] += 1 }
            dropped.formUnion(summary.droppedColumns)
            say("   \(agency.file): \(summary.events) events in \(summary.cases) cases sealed into \(writer.written.count) batch(es); \(summary.rejectedRows) rows rejected"
                + (summary.heldBackCases > 0 ? " (\(summary.heldBackCases) case(s) held back whole: report row rejected)" : ""))
        }
        say("   dropped columns (never sealed): \(dropped.sorted().joined(separator: ", "))")
        say("   rejected rows by reason: \(rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")

        // 5. Submission through the real HTTP API.
        say("== 5. submit \(files.count) batches to \(base)/v1/batches")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let submitter = BatchSubmitter(transport: HTTPBatchTransport(client: client, url: base + "/v1/batches"), serviceKey: serviceSigning.publicKey)
        var progress = SubmitCommand.Progress(total: files.count, bar: isatty(2) != 0)
        var newEvents = 0
        var duplicates = 0
        var recordRejects = 0
        var refused = 0
        for file in files {
            switch await submitter.submit(file: file) {
            case let .accepted(receipt, _):
                newEvents += Int(receipt.newEvents)
                duplicates += Int(receipt.accepted - receipt.newEvents)
                recordRejects += receipt.rejected.count
                progress.done(records: Int(receipt.accepted), line: "\((file as NSString).lastPathComponent): accepted \(receipt.accepted)")
            case let .refused(reason):
                refused += 1
                progress.done(records: 0, line: "\((file as NSString).lastPathComponent): REFUSED \(reason)", refused: true)
            }
        }
        progress.finish()
        try await client.shutdown()
        let counts = try await service.counts()
        say("   \(files.count - refused) batches accepted, \(refused) refused; \(newEvents) new events, \(duplicates) duplicates counted once, \(recordRejects) records rejected")
        say("   store: \(counts.batches) batches, \(counts.events) distinct events, \(counts.cases) cases")

        try await afterIngest(root: root, database: database, service: service, base: base, today: today)

        say(String(format: "== done in %.0f s", Date().timeIntervalSince(started)))
        if exit {
            await group.triggerGracefulShutdown()
            try await server.value
            return
        }
        say("serving on \(base) until interrupted (Ctrl-C)")
        try await server.value
    }
}
