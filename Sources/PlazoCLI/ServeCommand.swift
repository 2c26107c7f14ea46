import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PlazoIngest
import PlazoServer
import PlazoSodium
import PlazoStore
import PlazoWire

/// Options shared by the commands that open the service's store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file (env PLAZO_DB; default plazo.sqlite in the working directory).")
    var db: String = ProcessInfo.processInfo.environment["PLAZO_DB"] ?? "plazo.sqlite"

    func open() throws -> AppDatabase { try AppDatabase.open(path: db) }
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
        abstract: "Run the Plazo service (HTTP API on the embedded SQLite store).",
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

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (env PLAZO_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["PLAZO_LOG_LEVEL"] ?? "info"

    func run() async throws {
        var logger = Logger(label: "plazo")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // One service per store, and no CLI release while it runs: the pins live in this process.
        let lock = try StoreLock.forService(db: store.db)
        let database = try store.open()
        let replayStarted = Date()
        let ingest = try IngestService(
            database: database, serviceKeys: [serviceKeys.boxKeyPair()], retiredServiceKeys: serviceKeys.retiredBoxKeyPairs(),
            receiptKey: serviceKeys.receiptKey(),
            timestampPolicy: TimestampPolicy(maxFutureSkew: 300, maxAge: Int64(maxBatchAgeDays) * 86_400),
            logger: logger
        )
        let counts = try ingest.counts()
        logger.info(
            "store opened",
            metadata: [
                "db": "\(store.db)", "batches": "\(counts.batches)", "events": "\(counts.events)", "cases": "\(counts.cases)",
                "replay.seconds": "\(String(format: "%.2f", Date().timeIntervalSince(replayStarted)))",
            ]
        )
        let app = buildApplication(
            ingest: ingest, database: database, configuration: ServerConfiguration(host: host, port: port), logger: logger
        ) { [host] boundPort in
            // A line scripts and tests can wait for.
            FileHandle.standardOutput.write(Data("plazo listening on http://\(host):\(boundPort)\n".utf8))
        }
        try await app.runService()
        withExtendedLifetime(lock) {}
    }
}
