import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PlazoApp
import PlazoIngest
import PlazoServer
import PlazoSodium
import PlazoStore
import PlazoWire
import ServiceLifecycle
import UnixSignals

/// Options shared by the commands that open the service's store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file (env PLAZO_DB; default plazo.sqlite in the working directory).")
    var db: String = ProcessInfo.processInfo.environment["PLAZO_DB"] ?? "plazo.sqlite"

    @Option(
        name: .long,
        help: "The store as a URL: postgres://user@host:port/database for PostgreSQL (several replicas on one database; docs/operations.md), or a SQLite file path. Overrides --db (env PLAZO_DATABASE).")
    var database: String? = ProcessInfo.processInfo.environment["PLAZO_DATABASE"]

    /// The store named: `--database` if given, else `--db`.
    var location: String { database ?? db }

    /// The SQLite file named, or nil for a shared (PostgreSQL) store.
    var file: String? { AppDatabase.file(at: location) }

    /// True for a store several replicas share (PostgreSQL).
    var isShared: Bool { file == nil }

    /// The store as messages name it (a PostgreSQL URL without its password).
    var displayName: String { AppDatabase.displayName(of: location) }

    func open() async throws -> AppDatabase {
        do { return try await AppDatabase.open(location: location) } catch {
            throw CLIRefusal("cannot open the store \(displayName): \(error)")
        }
    }

    /// The SQLite file's lock for a service (nil on PostgreSQL: replicas share the database).
    func serviceLock() throws -> StoreLock? { try file.map { try StoreLock.forService(db: $0) } }

    /// The SQLite file's locks for a CLI release (nil on PostgreSQL: every replica follows the
    /// releases stored in the database and applies their pins at their watermark).
    func releaseLock() throws -> StoreLock? { try file.map { try StoreLock.forRelease(db: $0) } }

    /// The case-index snapshot beside a SQLite store (nil on PostgreSQL: a replica replays the log).
    var snapshotPath: String? { file.map(IndexSnapshot.path(forStore:)) }
}

/// Options naming the service's key directory.
struct ServiceKeyOptions: ParsableArguments {
    @Option(name: .long, help: "Directory with service-box.secret and service-signing.secret (env PLAZO_KEYS; default ./keys).")
    var keys: String = ProcessInfo.processInfo.environment["PLAZO_KEYS"] ?? "keys"

    func boxKeyPair() throws -> BoxKeyPair {
        try KeyFile.read((keys as NSString).appendingPathComponent("service-box.secret"), expecting: .serviceBoxSecret).boxKeyPair()
    }

    /// The retired box keys beside the current one (`service-box.<key id>.secret`, as
    /// `plazo keys rotate-box` leaves them). Stored batches are re-opened at start-up, so a
    /// retired key stays as long as batches sealed to it are stored; new batches sealed to it are
    /// refused.
    func retiredBoxKeyPairs() throws -> [BoxKeyPair] {
        try Self.retiredBoxKeyFiles(in: keys).map {
            try KeyFile.read((keys as NSString).appendingPathComponent($0), expecting: .serviceBoxSecret).boxKeyPair()
        }
    }

    /// The file names of retired box secret keys in `directory`, sorted.
    static func retiredBoxKeyFiles(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("service-box.") && $0.hasSuffix(".secret") && $0 != "service-box.secret" }
            .sorted()
    }

    /// The current box key and every retired one: what re-opening the stored batches needs.
    func boxKeyPairs() throws -> [BoxKeyPair] { try [boxKeyPair()] + retiredBoxKeyPairs() }

    func receiptKey() throws -> SigningKeyPair {
        try KeyFile.read((keys as NSString).appendingPathComponent("service-signing.secret"), expecting: .serviceSigningSecret).signingKeyPair()
    }
}

/// `plazo serve`: the HTTP service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Plazo service (HTTP API on the embedded SQLite store, or on PostgreSQL as one of several replicas).",
        discussion: """
            Defaults need no configuration: plazo.sqlite in the working directory, service keys in \
            ./keys (create them with `plazo keys service --out keys`), 127.0.0.1:8080. Every option \
            can also be set by its environment variable. Stops cleanly on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var serviceKeys: ServiceKeyOptions

    @Option(name: .long, help: "Address to bind (env PLAZO_HOST).")
    var host: String = ProcessInfo.processInfo.environment["PLAZO_HOST"] ?? "127.0.0.1"

    @Option(name: .long, help: "Port (env PLAZO_PORT; 0 picks a free one).")
    var port: Int = Int(ProcessInfo.processInfo.environment["PLAZO_PORT"] ?? "") ?? 8080

    @Option(name: .long, help: "Oldest accepted batch creation time, in days (env PLAZO_MAX_BATCH_AGE_DAYS).")
    var maxBatchAgeDays: Int = Int(ProcessInfo.processInfo.environment["PLAZO_MAX_BATCH_AGE_DAYS"] ?? "") ?? 30

    @Option(name: .long, help: "TLS certificate chain, PEM (env PLAZO_TLS_CERT); with --tls-key, serve HTTPS.")
    var tlsCert: String? = ProcessInfo.processInfo.environment["PLAZO_TLS_CERT"]

    @Option(name: .long, help: "TLS private key, PEM (env PLAZO_TLS_KEY).")
    var tlsKey: String? = ProcessInfo.processInfo.environment["PLAZO_TLS_KEY"]

    @Option(name: .long, help: "Seconds before an idle connection is closed (env PLAZO_IDLE_TIMEOUT).")
    var idleTimeout: Int = Int(ProcessInfo.processInfo.environment["PLAZO_IDLE_TIMEOUT"] ?? "") ?? 60

    @Option(name: .long, help: "Seconds a client has to send a whole request head (env PLAZO_HEADER_TIMEOUT).")
    var headerTimeout: Int = Int(ProcessInfo.processInfo.environment["PLAZO_HEADER_TIMEOUT"] ?? "") ?? 10

    @Option(name: .long, help: "Seconds a client has to send a whole request body after its head (env PLAZO_BODY_TIMEOUT).")
    var bodyTimeout: Int = Int(ProcessInfo.processInfo.environment["PLAZO_BODY_TIMEOUT"] ?? "") ?? 60

    @Option(name: .long, help: "Most connections open at once (env PLAZO_MAX_CONNECTIONS; default 4096 or the open-file limit less 64).")
    var maxConnections: Int = Int(ProcessInfo.processInfo.environment["PLAZO_MAX_CONNECTIONS"] ?? "") ?? ServerConfiguration.defaultMaxConnections

    @Option(name: .long, help: "Write the case-index snapshot after this many new events (env PLAZO_SNAPSHOT_EVENTS; 0: only at shutdown).")
    var snapshotEvents: Int = Int(ProcessInfo.processInfo.environment["PLAZO_SNAPSHOT_EVENTS"] ?? "") ?? 1_000_000

    @Option(name: .long, help: "Or after this many minutes with any change (env PLAZO_SNAPSHOT_MINUTES; 0: only at shutdown).")
    var snapshotMinutes: Int = Int(ProcessInfo.processInfo.environment["PLAZO_SNAPSHOT_MINUTES"] ?? "") ?? 10

    @Flag(name: .long, help: "Keep no case-index snapshot: replay the whole batch log at every start.")
    var noSnapshot = false

    @Option(name: .long, help: "PostgreSQL replicas: milliseconds between looks for batches and releases other replicas stored (env PLAZO_FOLLOW_MS).")
    var followIntervalMilliseconds: Int = Int(ProcessInfo.processInfo.environment["PLAZO_FOLLOW_MS"] ?? "") ?? 200

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (env PLAZO_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["PLAZO_LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 second")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard followIntervalMilliseconds >= 10 else { throw ValidationError("--follow-interval-milliseconds must be at least 10") }
        guard snapshotEvents >= 0, snapshotMinutes >= 0 else { throw ValidationError("--snapshot-events and --snapshot-minutes must not be negative") }
    }

    func run() async throws {
        var logger = Logger(label: "plazo")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // SQLite: one service per store, and no CLI release while it runs (the pins live in this
        // process). PostgreSQL: any number of replicas, each following the others (below).
        let lock = try store.serviceLock()
        let database = try await store.open()
        let replayStarted = Date()
        let service = try await PlazoService(
            database: database, serviceKeys: [serviceKeys.boxKeyPair()], retiredServiceKeys: serviceKeys.retiredBoxKeyPairs(),
            receiptKey: serviceKeys.receiptKey(),
            timestampPolicy: TimestampPolicy(maxFutureSkew: 300, maxAge: Int64(maxBatchAgeDays) * 86_400),
            logger: logger, snapshotPath: noSnapshot ? nil : store.snapshotPath
        )
        // The start-up line: how the case index was rebuilt (from the snapshot and the batches
        // after it, or the whole log) and how long that took. Exact counts of events and cases are
        // data: in the same line only at debug level (docs/api-guide.md, "Logs"); /metrics gives
        // them to the steward at any level (plazo_index_cases, plazo_index_events).
        var started: Logger.Metadata = [
            "db": "\(store.displayName)", "engine": "\(database.kind.rawValue)",
            "index.from": "\(Self.startupSource(service.startupSnapshot))",
            "replay.seconds": "\(String(format: "%.2f", Date().timeIntervalSince(replayStarted)))",
        ]
        if logger.logLevel <= .debug {
            let counts = try await service.counts()
            started["batches"] = "\(counts.batches)"
            started["events"] = "\(counts.events)"
            started["cases"] = "\(counts.cases)"
        }
        logger.info("store opened", metadata: started)
        // Beside the server: the snapshot written in the background (unless both thresholds are 0)
        // and once more at a clean stop; on a shared store, the follower that applies what other
        // replicas store every `followInterval` (the staleness bound of dashboards and quality
        // reports; ingest and releases catch up under the writer lock).
        let background = PlazoService.BackgroundPolicy(
            snapshots: snapshotEvents == 0 && snapshotMinutes == 0
                ? nil
                : SnapshotPolicy(
                    everyEvents: snapshotEvents == 0 ? .max : snapshotEvents,
                    interval: snapshotMinutes == 0 ? .seconds(Int64.max / 2) : .seconds(snapshotMinutes * 60)),
            followInterval: .milliseconds(followIntervalMilliseconds))
        var tls: ServerTLS?
        if let tlsCert, let tlsKey {
            do { tls = try ServerTLS.load(certificateChain: tlsCert, privateKey: tlsKey) } catch { throw ValidationError("\(error)") }
        }
        let scheme = tls == nil ? "http" : "https"
        let configuration = ServerConfiguration(
            host: host, port: port, idleTimeout: .seconds(idleTimeout), headerTimeout: .seconds(headerTimeout),
            bodyTimeout: .seconds(bodyTimeout), maxConnections: maxConnections, tls: tls)
        let app = buildApplication(service: service, configuration: configuration, logger: logger) { [host] boundPort in
            // A line scripts and tests can wait for.
            FileHandle.standardOutput.write(Data("plazo listening on \(scheme)://\(host):\(boundPort)\n".utf8))
        }
        // One ServiceGroup runs everything and stops it on SIGINT or SIGTERM, in the reverse of
        // this order: the HTTP server first (in-flight requests finish), then the follower, then
        // the snapshot's last write, of a state that no request changes any more.
        let services: [any Service] = service.backgroundServices(background, logger: logger) + [app]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime(lock) {}
    }
}

extension ServeCommand {
    /// Where the start-up took the case index from, for the start-up line.
    static func startupSource(_ use: BatchLogReplay.SnapshotUse) -> String {
        switch use {
        case .none: "the whole batch log (no snapshot kept)"
        case .missing: "the whole batch log (no snapshot file yet)"
        case .refused: "the whole batch log (the snapshot was not usable)"
        case .loaded: "\(use)"
        }
    }
}
