import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// The PostgreSQL engine: postgres-nio's `PostgresClient` (its own pool of connections) behind the
/// store's `async` interface. Every statement suspends its task until the server answers; nothing
/// waits on a thread.
///
/// **One writer at a time, across replicas.** Every write transaction takes one transaction-level
/// advisory lock (``lockKey``) before its first statement, and the paths that must hold the
/// writer across a commit (a batch's commit and its application to the case index; a release's
/// projection, commit and pinning) take the same lock at session level. The store therefore has
/// one writer at a time whichever replica writes, as SQLite has one per file:
/// - a budget check-then-insert cannot interleave with another replica's (k+5 concurrent releases
///   against budget for k admit exactly k);
/// - batches get their acceptance numbers (`batch.seq`) and commit in the same order, so a replica
///   that follows the log by sequence never skips a batch committed late;
/// - a release's batch watermark is the log's last batch at the moment it holds the lock: every
///   replica that has applied the log up to it sees the same data.
/// Advisory locks belong to a session: a replica or connection that dies releases them at once.
/// Waiting for the lock is a query like any other: the task is suspended, no thread waits.
public final class PostgresEngine: Sendable {
    /// The advisory lock of the single writer of a store in the `public` schema ("PlazoWri" as a
    /// big-endian integer; the key every version has used there).
    public static let writerLockKey: Int64 = 0x506C_617A_6F57_7269

    /// The advisory lock of this store's single writer. Advisory locks are per database, not per
    /// schema: a store in a schema of its own (`?schema=`) locks a key derived from the schema's
    /// name, so that stores sharing a database (the test suite gives every test one) never wait for
    /// each other's writers. The `public` schema keeps ``writerLockKey``, so replicas of different
    /// versions during a rolling upgrade still exclude each other.
    public let lockKey: Int64

    /// ``lockKey`` for a store in `schema`: FNV-1a (64 bits) of `plazo-writer:<schema>`.
    static func lockKey(schema: String) -> Int64 {
        if schema == "public" { return writerLockKey }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in "plazo-writer:\(schema)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }

    /// How long a call waits for a connection from the pool before it answers
    /// ``StoreError/unavailable(_:)``. The pool retries a database that refuses connections for
    /// a minute before it fails its waiters; a request should hear sooner that the store is down.
    /// Long enough for eight connections' worth of writers queued behind a release's projection
    /// (about a second at 10 million cases).
    static let leaseTimeout: Duration = .seconds(10)

    /// The connection string with its password replaced by `***` (for logs and errors).
    public let redactedURL: String
    /// The schema the store lives in (`public` unless the URL names one with `?schema=`).
    public let schema: String
    let connectionConfiguration: PostgresConnection.Configuration
    let client: PostgresClient
    /// The client's pool, run for as long as this engine lives.
    let running: Task<Void, Never>
    let logger: Logger

    /// Makes the engine; it connects when first used (``AppDatabase/open(location:)`` checks the
    /// server with one connection of its own before it migrates).
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable|require][&schema=name]`,
    ///     or `postgres:///database?host=/run/postgresql` for a unix socket directory (libpq's form).
    ///   - maxConnections: the most connections this process opens.
    public init(url: String, maxConnections: Int = 8, logger: Logger = Logger(label: "plazo.postgres")) throws(StoreError) {
        let parsed = try PostgresURL(url)
        self.redactedURL = parsed.redacted
        self.schema = parsed.schema
        self.lockKey = Self.lockKey(schema: parsed.schema)
        self.connectionConfiguration = parsed.configuration
        var logger = logger
        logger.logLevel = .warning
        self.logger = logger
        var client = parsed.clientConfiguration
        client.options.maximumConnections = maxConnections
        let pool = PostgresClient(configuration: client, backgroundLogger: logger)
        self.client = pool
        // The pool's own work (granting leases, opening and checking connections) runs on threads
        // of its own: a process whose cooperative threads are all busy with CPU work still hands
        // out connections promptly, and the lease timeout measures the database, not the process.
        self.running = Task(executorPreference: PostgresEngine.poolExecutor) { await pool.run() }
    }

    /// Two threads shared by every engine of the process, for the pools' own work.
    static let poolExecutor = ThreadPoolExecutor(threads: 2)

    deinit {
        // Ends the pool's run: its connections are closed, which releases any advisory lock.
        running.cancel()
    }

    /// `url` with its password replaced by `***` (for messages), without connecting; the URL itself
    /// when it does not parse.
    public static func redacted(_ url: String) -> String {
        (try? PostgresURL(url).redacted) ?? url.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
    }

    /// Checks that the server answers, with one connection of its own (a pool would retry a
    /// refusing server for a minute), and creates the URL's schema if it does not exist: the
    /// startup parameter `search_path` can name a schema only once it exists.
    func checkServer() async throws(StoreError) {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw .unavailable("cannot connect to PostgreSQL at \(redactedURL): \(Self.describe(error))")
        }
        // postgres-nio requires a connection to be closed before it is released.
        var failure: StoreError?
        if schema != "public" {
            do {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger).get()
            } catch {
                failure = .unavailable("cannot create the schema \(schema) at \(redactedURL): \(Self.describe(error))")
            }
        }
        try? await connection.close()
        if let failure { throw failure }
    }

    /// Runs `body` on a connection leased from the pool, waiting at most ``leaseTimeout`` for one.
    /// A connection that failed at the transport level, or whose session state is unknown after an
    /// error, is closed, and the pool replaces it: the store recovers by itself when the database
    /// comes back.
    func withConnection<T>(_ body: (PostgresSQLConnection) async throws -> T) async throws -> T {
        do {
            return try await withoutActuallyEscaping(body) { body in
                let work = Unchecked<((PostgresSQLConnection) async throws -> T)?>(body)
                defer { work.value = nil }
                let lease = LeaseRace()
                let client = self.client, logger = self.logger, lockKey = self.lockKey
                return try await withThrowingTaskGroup(of: Unchecked<T>?.self) { group in
                    group.addTask {
                        try await client.withConnection { (connection: PostgresConnection) async throws -> Unchecked<T> in
                            // Leased too late: the caller has been told the store is unavailable.
                            guard lease.leased() else { throw StoreError.unavailable("no PostgreSQL connection within \(Self.leaseTimeout)") }
                            let conn = PostgresSQLConnection(connection: connection, logger: logger, lockKey: lockKey)
                            do { return Unchecked(try await work.value!(conn)) } catch {
                                if connection.isClosed || Self.isUnavailable(error) { await Self.drop(connection) }
                                throw error
                            }
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: Self.leaseTimeout)
                        if lease.expired() { throw StoreError.unavailable("no PostgreSQL connection within \(Self.leaseTimeout)") }
                        return nil
                    }
                    while let next = try await group.next() {
                        if let result = next {
                            group.cancelAll()
                            return result.value
                        }
                    }
                    throw StoreError.unavailable("the PostgreSQL pool stopped")
                }
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// A read: one `REPEATABLE READ READ ONLY` transaction, so that a read of several statements
    /// sees one snapshot (as a GRDB read does).
    func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { conn in
            try await conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try await body(conn)
                try await conn.run("COMMIT")
                return result
            } catch {
                await conn.rollback(after: error)
                throw error
            }
        }
    }

    /// One statement on a pooled connection, outside any transaction: a single statement sees one
    /// snapshot by itself, so the `BEGIN` and `COMMIT` of ``read(_:)`` would be two round trips
    /// for nothing.
    func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { conn in try await body(conn) }
    }

    /// Holds the writer lock at session level for the whole of `body` (which opens its own
    /// transactions with ``SQLConnection/transaction(_:)``), as GRDB's `writeWithoutTransaction`.
    func writeLocked<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { conn in
            try await conn.run("SELECT pg_advisory_lock(\(lockKey))")
            // Transactions inside need not take the lock again (one round trip fewer each).
            var held = conn
            held.holdsWriterLock = true
            let result: T
            do { result = try await body(held) } catch {
                if conn.connection.isClosed || Self.isUnavailable(error) {
                    // The session is gone or going: its lock goes with it.
                    await Self.drop(conn.connection)
                } else {
                    do { try await conn.run("SELECT pg_advisory_unlock(\(lockKey))") } catch { await Self.drop(conn.connection) }
                }
                throw error
            }
            do { try await conn.run("SELECT pg_advisory_unlock(\(lockKey))") } catch {
                // The work is committed; a connection that cannot unlock is closed, which unlocks.
                await Self.drop(conn.connection)
            }
            return result
        }
    }

    /// Closes a connection and waits until it is closed: the server ends its session (releasing
    /// its advisory locks), and the pool, which sees the connection closed before the lease is
    /// returned, never lends it again; it opens a new one when needed.
    static func drop(_ connection: PostgresConnection) async {
        if connection.isClosed { return }
        try? await connection.close()
    }

    /// True for errors that mean "the database cannot be reached now" (the caller answers 503 and
    /// the request can be repeated), as opposed to a statement the database refused.
    static func isUnavailable(_ error: any Error) -> Bool {
        if let store = error as? StoreError, case .unavailable = store { return true }
        if error is ChannelError || error is IOError || error is CancellationError { return true }
        guard let e = error as? PSQLError else { return false }
        switch e.code {
        case .server:
            // Class 08 (connection exception), 57 (operator intervention: shutdown, terminated
            // backend), 53 (insufficient resources).
            let state = e.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53")
        default:
            return true
        }
    }

    static func mapped(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        if isUnavailable(error) { return StoreError.unavailable("PostgreSQL: \(describe(error))") }
        if error is PSQLError { return StoreError.database(describe(error)) }
        return error
    }

    /// A sentence for a postgres-nio error (its own description hides the server's message).
    static func describe(_ error: any Error) -> String {
        guard let e = error as? PSQLError else { return String(describing: error) }
        if let info = e.serverInfo {
            return "\(info[.message] ?? "server error") (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }
}

/// Who won the race between a pool's lease and ``PostgresEngine/leaseTimeout``: exactly one of
/// ``leased()`` and ``expired()`` returns true.
final class LeaseRace: Sendable {
    private let state = Atomic<Int>(0)  // 0 waiting, 1 leased, 2 expired
    func leased() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }
    func expired() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

/// One leased PostgreSQL connection with the store's `?` statements.
struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// The store's writer lock (``PostgresEngine/lockKey``).
    let lockKey: Int64
    /// True inside ``PostgresEngine/writeLocked(_:)``: the session holds the writer lock already.
    var holdsWriterLock = false

    var engine: StoreEngineKind { .postgres }

    /// How long a statement may take before the connection is given up (a lock wait included:
    /// the writer lock is held for a release's projection, about a second at 10 million cases).
    static let statementTimeout = TimeAmount.seconds(60)

    /// The answer to `future`, failing with ``StoreError/unavailable(_:)`` when the connection
    /// closes first or after ``statementTimeout``. The task is suspended meanwhile.
    ///
    /// Why both: postgres-nio writes a query to its channel without a promise, so a query sent on a
    /// connection that closed meanwhile (a terminated backend, a database restart) is never
    /// answered nor failed. Watching the connection's close future turns that into an error at
    /// once; the timeout covers a server that stops answering without closing.
    func answer<T: Sendable>(_ future: EventLoopFuture<T>) async throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        let settled = NIOLockedValueBox(false)
        @Sendable func settle(_ result: Result<T, any Error>) {
            let first = settled.withLockedValue { done in
                defer { done = true }
                return !done
            }
            if first { promise.completeWith(result) }
        }
        future.whenComplete(settle)
        connection.closeFuture.whenComplete { _ in
            settle(.failure(StoreError.unavailable("the PostgreSQL connection closed before answering")))
        }
        let timer = future.eventLoop.scheduleTask(in: Self.statementTimeout) {
            settle(.failure(StoreError.unavailable("PostgreSQL did not answer within \(Self.statementTimeout.nanoseconds / 1_000_000_000) s")))
        }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    func run(_ sql: String) async throws {
        _ = try await answer(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger))
    }

    /// Ends a transaction that failed: `ROLLBACK` when the connection still works; when it
    /// failed itself (terminated, unreachable), nothing is sent on it (the server has rolled the
    /// transaction back, and the connection is closed). A connection that cannot roll back is
    /// closed too, so that the pool never lends a connection inside a transaction.
    func rollback(after error: any Error) async {
        if connection.isClosed || PostgresEngine.isUnavailable(error) {
            await PostgresEngine.drop(connection)
            return
        }
        do { try await run("ROLLBACK") } catch { await PostgresEngine.drop(connection) }
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
        _ = try await answer(connection.query(Self.query(sql, arguments), logger: logger))
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        let result = try await answer(connection.query(Self.query(sql, arguments), logger: logger))
        return try result.rows.map { row in
            var names: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                names.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return SQLRow(names: names, values: values)
        }
    }

    func transaction<T>(_ body: () async throws -> T) async throws -> T {
        try await run("BEGIN")
        do {
            // The writer lock first (unless the session holds it already), then the reads.
            if !holdsWriterLock { try await run("SELECT pg_advisory_xact_lock(\(lockKey))") }
            let result = try await body()
            try await run("COMMIT")
            return result
        } catch {
            await rollback(after: error)
            throw error
        }
    }

    /// `?` placeholders become `$1, $2, …` (outside quoted literals).
    static func query(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 8)
        var n = 0
        var quoted = false
        for ch in sql {
            if ch == "'" { quoted.toggle() }
            if ch == "?" && !quoted {
                n += 1
                text += "$\(n)"
            } else {
                text.append(ch)
            }
        }
        var binds = PostgresBindings(capacity: arguments.count)
        for a in arguments {
            switch a {
            case .null: binds.appendNull()
            case let .integer(i): binds.append(i)
            case let .text(s): binds.append(s)
            case let .blob(b): binds.append(ByteBuffer(bytes: b))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// A parsed `postgres://` connection string.
struct PostgresURL {
    var configuration: PostgresConnection.Configuration
    /// The same server for the pool (``PostgresEngine``'s `PostgresClient`).
    var clientConfiguration: PostgresClient.Configuration
    var redacted: String
    var schema: String

    init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw .openFailed(path: "the database URL", "expected postgres://user@host:port/database")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = components.password?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let database = String(components.path.dropFirst()).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? user
        let port = components.port ?? 5432
        let host = query["host"] ?? components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "/var/run/postgresql"
        var config: PostgresConnection.Configuration
        var client: PostgresClient.Configuration
        if host.hasPrefix("/") {
            config = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            client = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            let clientTLS: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "disable" {
            case "disable", "allow", "prefer":
                tls = .disable
                clientTLS = .disable
            case "require", "verify-ca", "verify-full":
                do { tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
                    throw .openFailed(path: "the database URL", "TLS: \(error)")
                }
                clientTLS = .require(.makeClientConfiguration())
            case let other: throw .openFailed(path: "the database URL", "unknown sslmode \(other)")
            }
            config = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
            client = .init(host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        }
        let schema = query["schema"] ?? "public"
        guard !schema.isEmpty, schema.utf8.allSatisfy({ c in (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 }) else {
            throw .openFailed(path: "the database URL", "schema must be lower-case letters, digits and _")
        }
        if schema != "public" {
            config.options.additionalStartupParameters = [("search_path", schema)]
            client.options.additionalStartupParameters = [("search_path", schema)]
        }
        config.options.connectTimeout = .seconds(5)
        client.options.connectTimeout = .seconds(5)
        self.configuration = config
        self.clientConfiguration = client
        self.schema = schema
        var shown = components
        if shown.password != nil { shown.password = "***" }
        self.redacted = shown.string ?? "postgres://…"
    }
}

/// A task executor over an `NIOThreadPool` of its own: each job runs on one of its threads
/// (SE-0417 task executors).
final class ThreadPoolExecutor: TaskExecutor {
    let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
