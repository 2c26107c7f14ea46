import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// The PostgreSQL engine: a small pool of postgres-nio connections behind the store's synchronous
/// interface.
///
/// **Why synchronous.** The store's callers (ingest, the ledger, releases) are synchronous and
/// hold in-memory locks around store calls, exactly as with GRDB. A call here blocks its thread on
/// an `EventLoopFuture` of this engine's own event loop group, never on a Swift concurrency task,
/// so a blocked caller cannot starve the thread that completes its query.
///
/// **One writer at a time, across replicas.** Every write transaction takes one transaction-level
/// advisory lock (``writerLockKey``) before its first statement, and the paths that must hold the
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
public final class PostgresEngine: Sendable {
    /// The advisory lock of the store's single writer ("PlazoWri" as a big-endian integer).
    public static let writerLockKey: Int64 = 0x506C_617A_6F57_7269

    /// The connection string with its password replaced by `***` (for logs and errors).
    public let redactedURL: String
    /// The schema the store lives in (`public` unless the URL names one with `?schema=`).
    public let schema: String
    let configuration: PostgresConnection.Configuration
    let group: MultiThreadedEventLoopGroup
    let idle: Mutex<[PostgresConnection]>
    let slots: DispatchSemaphore
    let nextID: Synchronization.Atomic<Int>
    let logger: Logger

    /// Connects lazily: opening checks the server with one connection.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable|require][&schema=name]`,
    ///     or `postgres:///database?host=/run/postgresql` for a unix socket directory (libpq's form).
    ///   - maxConnections: the most connections this process opens.
    public init(url: String, maxConnections: Int = 8, logger: Logger = Logger(label: "plazo.postgres")) throws(StoreError) {
        let parsed = try PostgresURL(url)
        self.redactedURL = parsed.redacted
        self.schema = parsed.schema
        self.configuration = parsed.configuration
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.idle = Mutex([])
        self.slots = DispatchSemaphore(value: maxConnections)
        self.nextID = Atomic(0)
        var logger = logger
        logger.logLevel = .warning
        self.logger = logger
    }

    deinit {
        let connections = idle.withLock { c in
            defer { c.removeAll() }
            return c
        }
        for c in connections { Self.drop(c) }
        group.shutdownGracefully { _ in }
    }

    /// `url` with its password replaced by `***` (for messages), without connecting; the URL itself
    /// when it does not parse.
    public static func redacted(_ url: String) -> String {
        (try? PostgresURL(url).redacted) ?? url.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
    }

    /// Closes every idle connection (tests that end a backend's life explicitly).
    public func closeIdleConnections() {
        let connections = idle.withLock { c in
            defer { c.removeAll() }
            return c
        }
        for c in connections { Self.drop(c) }
    }

    /// Runs `body` on a pooled connection. A connection that failed at the transport level is
    /// closed and dropped; the next call opens a new one, so the store recovers by itself when the
    /// database comes back.
    func withConnection<T>(_ body: (PostgresSQLConnection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        var connection = idle.withLock { $0.popLast() }
        if let c = connection, c.isClosed { connection = nil }
        let conn: PostgresConnection
        if let connection { conn = connection } else { conn = try connect() }
        do {
            let result = try body(PostgresSQLConnection(connection: conn, logger: logger))
            idle.withLock { $0.append(conn) }
            return result
        } catch {
            if conn.isClosed || Self.isUnavailable(error) {
                Self.drop(conn)
            } else {
                idle.withLock { $0.append(conn) }
            }
            throw Self.mapped(error)
        }
    }

    func connect() throws(StoreError) -> PostgresConnection {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            let connection = try PostgresConnection.connect(
                on: group.next(), configuration: configuration, id: id, logger: logger
            ).wait()
            if schema != "public" {
                // The schema must exist before `search_path` can name it (the startup parameter does).
                _ = try connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger).wait()
            }
            return connection
        } catch {
            throw .unavailable("cannot connect to PostgreSQL at \(redactedURL): \(Self.describe(error))")
        }
    }

    /// A read: one `REPEATABLE READ READ ONLY` transaction, so that a read of several statements
    /// sees one snapshot (as a GRDB read does).
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { conn in
            try conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try body(conn)
                try conn.run("COMMIT")
                return result
            } catch {
                conn.rollback(after: error)
                throw error
            }
        }
    }

    /// One statement on a pooled connection, outside any transaction: a single statement sees one
    /// snapshot by itself, so the `BEGIN` and `COMMIT` of ``read(_:)`` would be two round trips
    /// for nothing.
    func readStatement<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { conn in try body(conn) }
    }

    /// Holds the writer lock at session level for the whole of `body` (which opens its own
    /// transactions with ``SQLConnection/transaction(_:)``), as GRDB's `writeWithoutTransaction`.
    func writeLocked<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { conn in
            try conn.run("SELECT pg_advisory_lock(\(Self.writerLockKey))")
            // Transactions inside need not take the lock again (one round trip fewer each).
            var held = conn
            held.holdsWriterLock = true
            let result: T
            do { result = try body(held) } catch {
                if conn.connection.isClosed || Self.isUnavailable(error) {
                    // The session is gone or going: its lock goes with it.
                    Self.drop(conn.connection)
                } else {
                    try? conn.run("SELECT pg_advisory_unlock(\(Self.writerLockKey))")
                }
                throw error
            }
            do { try conn.run("SELECT pg_advisory_unlock(\(Self.writerLockKey))") } catch {
                // The work is committed; a connection that cannot unlock is closed, which unlocks.
                Self.drop(conn.connection)
            }
            return result
        }
    }

    /// Closes a connection (the server releases its advisory locks) and waits until it is closed:
    /// postgres-nio requires a connection to be closed before it is released.
    static func drop(_ connection: PostgresConnection) {
        if connection.isClosed { return }
        let closing: EventLoopFuture<Void> = connection.close()
        let promise = closing.eventLoop.makePromise(of: Void.self)
        closing.cascade(to: promise)
        let timer = closing.eventLoop.scheduleTask(in: .seconds(5)) { promise.succeed(()) }
        try? promise.futureResult.wait()
        timer.cancel()
    }

    /// True for errors that mean "the database cannot be reached now" (the caller answers 503 and
    /// the request can be repeated), as opposed to a statement the database refused.
    static func isUnavailable(_ error: any Error) -> Bool {
        if let store = error as? StoreError, case .unavailable = store { return true }
        if error is ChannelError || error is IOError { return true }
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

/// One checked-out PostgreSQL connection with the store's `?` statements.
struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// True inside ``PostgresEngine/writeLocked(_:)``: the session holds the writer lock already.
    var holdsWriterLock = false

    var engine: StoreEngineKind { .postgres }

    /// How long a statement may take before the connection is given up (a lock wait included:
    /// the writer lock is held for a release's projection, about a second at 10 million cases).
    static let statementTimeout = TimeAmount.seconds(60)

    /// Waits for `future`, failing with ``StoreError/unavailable(_:)`` when the connection closes
    /// first or after ``statementTimeout``.
    ///
    /// Why both: postgres-nio writes a query to its channel without a promise, so a query sent on a
    /// connection that closed meanwhile (a terminated backend, a database restart) is never
    /// answered nor failed. Watching the connection's close future turns that into an error at
    /// once; the timeout covers a server that stops answering without closing.
    func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
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
        return try promise.futureResult.wait()
    }

    func run(_ sql: String) throws {
        _ = try wait(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger))
    }

    /// Ends a transaction that failed: `ROLLBACK` when the connection still works; when it
    /// failed itself (terminated, unreachable), nothing is sent on it (the server has rolled the
    /// transaction back, and the pool closes the connection).
    func rollback(after error: any Error) {
        if connection.isClosed || PostgresEngine.isUnavailable(error) { return }
        try? run("ROLLBACK")
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try wait(connection.query(Self.query(sql, arguments), logger: logger))
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = try wait(connection.query(Self.query(sql, arguments), logger: logger))
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

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN")
        do {
            // The writer lock first (unless the session holds it already), then the reads.
            if !holdsWriterLock { try run("SELECT pg_advisory_xact_lock(\(PostgresEngine.writerLockKey))") }
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            rollback(after: error)
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
        if host.hasPrefix("/") {
            config = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch query["sslmode"] ?? "disable" {
            case "disable", "allow", "prefer": tls = .disable
            case "require", "verify-ca", "verify-full":
                do { tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
                    throw .openFailed(path: "the database URL", "TLS: \(error)")
                }
            case let other: throw .openFailed(path: "the database URL", "unknown sslmode \(other)")
            }
            config = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        let schema = query["schema"] ?? "public"
        guard !schema.isEmpty, schema.utf8.allSatisfy({ c in (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 }) else {
            throw .openFailed(path: "the database URL", "schema must be lower-case letters, digits and _")
        }
        if schema != "public" { config.options.additionalStartupParameters = [("search_path", schema)] }
        config.options.connectTimeout = .seconds(5)
        self.configuration = config
        self.schema = schema
        var shown = components
        if shown.password != nil { shown.password = "***" }
        self.redacted = shown.string ?? "postgres://…"
    }
}
