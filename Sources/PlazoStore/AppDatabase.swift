import Foundation
import GRDB

/// The service's store: embedded SQLite (the default: one process, one file) or PostgreSQL
/// (several replicas on one database). Both hold the same tables; every feature's data access is
/// written once against ``SQLConnection`` and runs on either (see `SQL.swift`).
///
/// On SQLite: one writer (a WAL-mode `DatabasePool` on a file, or an in-memory `DatabaseQueue` for
/// tests), with the schema brought up to date by a named `DatabaseMigrator` when it is opened.
/// On PostgreSQL: a pool of connections (``PostgresEngine``) and the schema of
/// `PostgresSchema.swift`, with one writer at a time across every replica.
///
/// Every feature owns its tables and contributes its migrations through ``AppDatabase/migrations``
/// (see `Migrations.swift`).
public final class AppDatabase: Sendable {
    enum Engine: Sendable {
        case sqlite(any DatabaseWriter)
        case postgres(PostgresEngine)
    }

    let engine: Engine

    /// Which engine holds the store.
    public var kind: StoreEngineKind {
        switch engine {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// Whether other processes write this store at the same time (several replicas on one
    /// PostgreSQL database). A service on a shared store applies what the others stored before it
    /// counts a batch or projects a release, and follows the store between requests; one on a
    /// SQLite file is the only writer (its file lock says so) and has nothing to follow.
    public var isShared: Bool { kind == .postgres }

    /// Whether a case-index snapshot file can be kept beside the store: a SQLite file, whose one
    /// service owns it. A replica of a shared store replays the log instead.
    public var keepsLocalSnapshot: Bool { !isShared }

    /// The GRDB writer of a SQLite store (nil on PostgreSQL): for SQLite-only tools (backup,
    /// integrity check) and tests that reach below the store's interface. Writes are serialised by
    /// GRDB within a process; across processes, write transactions use `BEGIN IMMEDIATE` and the
    /// busy timeout of ``makeConfiguration()``.
    public var sqlite: (any DatabaseWriter)? {
        if case let .sqlite(writer) = engine { return writer }
        return nil
    }

    /// The PostgreSQL engine of a PostgreSQL store (nil on SQLite).
    public var postgres: PostgresEngine? {
        if case let .postgres(engine) = engine { return engine }
        return nil
    }

    /// Wraps an open SQLite writer and migrates it to the current schema.
    public init(_ writer: any DatabaseWriter) throws(StoreError) {
        self.engine = .sqlite(writer)
        // A store written by a newer Plazo has migrations this binary does not know: refuse it
        // rather than run on a schema it cannot read.
        let superseded: Bool
        do { superseded = try writer.read { db in try Self.migrator.hasBeenSuperseded(db) } } catch {
            throw .migrationFailed(String(describing: error))
        }
        if superseded { throw .newerSchema }
        do { try Self.migrator.migrate(writer) } catch { throw .migrationFailed(String(describing: error)) }
    }

    /// Connects to a PostgreSQL store and brings its schema up to date (``PostgresSchema``).
    ///
    /// - Throws: ``StoreError/unavailable(_:)`` when the server cannot be reached,
    ///   ``StoreError/newerSchema`` for a schema written by a newer Plazo.
    public init(postgres engine: PostgresEngine) async throws(StoreError) {
        self.engine = .postgres(engine)
        try await engine.checkServer()
        do { try await PostgresSchema.migrate(engine) } catch let error as StoreError { throw error } catch {
            throw .migrationFailed(PostgresEngine.describe(error))
        }
    }

    /// Opens the store named by `location`: a `postgres://` (or `postgresql://`) URL, or the path
    /// of a SQLite file.
    public static func open(location: String) async throws(StoreError) -> AppDatabase {
        if PostgresEngine.isURL(location) { return try await AppDatabase(postgres: PostgresEngine(url: location)) }
        return try open(path: location)
    }

    /// The SQLite file a store location names, or nil when it names a shared PostgreSQL store
    /// (a `postgres://` or `postgresql://` URL). What a tool needs to know before it opens the
    /// store: whether it can lock the file, back it up or keep a snapshot beside it.
    public static func file(at location: String) -> String? {
        PostgresEngine.isURL(location) ? nil : location
    }

    /// A store location as messages name it: the SQLite file, or the PostgreSQL URL without its
    /// password.
    public static func displayName(of location: String) -> String {
        file(at: location) ?? PostgresEngine.redacted(location)
    }

    /// What the store is, for messages: the SQLite file or the PostgreSQL URL without its password.
    public var displayName: String {
        switch engine {
        case let .sqlite(writer): (writer as? DatabasePool)?.path ?? (writer as? DatabaseQueue)?.path ?? "sqlite"
        case let .postgres(pg): pg.redactedURL
        }
    }

    // MARK: Access
    //
    // Every access is `async` and waits for nothing on a Swift concurrency thread: SQLite runs the
    // body inside one of GRDB's async accesses, on GRDB's queue (``SQLiteInline``); PostgreSQL runs
    // it on a connection leased from `PostgresClient`, every statement a suspension.

    /// Runs `body` on a connection that sees one consistent state of the store.
    public func read<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        switch engine {
        case let .sqlite(writer): try await Self.inGRDB(body) { run in try await writer.read(run) }
        case let .postgres(pg): try await pg.read(body)
        }
    }

    /// Runs `body`, which must run exactly **one** statement, on a connection that sees one state
    /// of the store (on PostgreSQL without a surrounding transaction: the hot single lookups of
    /// ingest and token checks save two round trips).
    public func readStatement<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        switch engine {
        case let .sqlite(writer): try await Self.inGRDB(body) { run in try await writer.read(run) }
        case let .postgres(pg): try await pg.readStatement(body)
        }
    }

    /// Runs `body` holding the store's single writer, outside a transaction: `body` opens its own
    /// with ``SQLConnection/transaction(_:)`` and may run code after the commit, before any other
    /// writer (in this process or, on PostgreSQL, any replica) starts.
    public func writeLocked<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        switch engine {
        case let .sqlite(writer): try await Self.inGRDB(body) { run in try await writer.writeWithoutTransaction(run) }
        case let .postgres(pg): try await pg.writeLocked(body)
        }
    }

    /// Runs `body` in one write transaction that holds the store's writer from its first read
    /// (check-then-insert is atomic across threads, processes and replicas).
    public func write<T>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        switch engine {
        case let .sqlite(writer):
            try await Self.inGRDB({ db in try await db.transaction { try await body(db) } }) { run in
                try await writer.writeWithoutTransaction(run)
            }
        case let .postgres(pg):
            try await pg.withConnection { conn in try await conn.transaction { try await body(conn) } }
        }
    }

    /// Runs `body` through one of GRDB's async accesses (`access`), to completion, on GRDB's queue.
    ///
    /// GRDB wants a `Sendable` closure and result; `body` and its result are neither, but they
    /// never run concurrently with their owner: the calling task is suspended until the access
    /// returns, and ``SQLiteInline`` finishes `body` inside it. The boxes say so to the compiler.
    static func inGRDB<T>(
        _ body: (any SQLConnection) async throws -> T,
        _ access: (@Sendable (Database) throws -> Unchecked<T>) async throws -> Unchecked<T>
    ) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            let work = Unchecked<((any SQLConnection) async throws -> T)?>(body)
            defer { work.value = nil }
            return try await access { db in Unchecked(try SQLiteInline.run(db, work.value!)) }.value
        }
    }

    /// Opens (creating if needed) the database file at `path` as a WAL-mode `DatabasePool`, and
    /// migrates it.
    ///
    /// The file holds token hashes, the agency registry and the ledger, so it is created with mode
    /// 0600 whatever the process umask, and an existing file (and its `-wal` and `-shm`) readable by
    /// others is narrowed to 0600. SQLite creates the WAL and shared-memory files with the main
    /// file's permissions, so they are 0600 too.
    public static func open(path: String) throws(StoreError) -> AppDatabase {
        try secureFileModes(path)
        let pool: DatabasePool
        do { pool = try DatabasePool(path: path, configuration: makeConfiguration()) } catch {
            throw .openFailed(path: path, String(describing: error))
        }
        return try AppDatabase(pool)
    }

    /// Creates the database file with mode 0600 if it does not exist, and narrows an existing one
    /// and its WAL and shared-memory files to 0600.
    static func secureFileModes(_ path: String) throws(StoreError) {
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) } else if errno != EEXIST {
                throw .openFailed(path: path, String(cString: strerror(errno)))
            }
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0 { _ = chmod(file, 0o600) }
        }
    }

    /// A consistent copy of the whole database at `destination` (which must not exist), taken
    /// online with SQLite's backup API while other connections keep writing: the copy is the state
    /// of one moment, committed transactions only. The copy is created with mode 0600.
    public func backup(to destination: String) throws(StoreError) {
        guard let writer = sqlite else {
            throw .database("a PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump, or base backups with WAL archiving): see docs/operations.md")
        }
        if FileManager.default.fileExists(atPath: destination) {
            throw .openFailed(path: destination, "the backup file exists already; choose a new name")
        }
        do {
            try Self.secureFileModes(destination)
            let copy = try DatabaseQueue(path: destination, configuration: Self.makeConfiguration())
            try writer.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                // One self-contained file: no -wal beside it.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
            }
            try copy.close()
        } catch {
            throw .database("backup to \(destination) failed: \(error)")
        }
    }

    /// SQLite's own check of the file: "ok", or the first problems it finds.
    public func integrityCheck() async throws(StoreError) -> [String] {
        guard let writer = sqlite else { return ["ok"] }
        do { return try await writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } } catch {
            throw .database(String(describing: error))
        }
    }

    /// A fresh private in-memory database (tests, dry runs). Nothing survives the object.
    public static func inMemory() throws(StoreError) -> AppDatabase {
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(configuration: makeConfiguration()) } catch {
            throw .openFailed(path: ":memory:", String(describing: error))
        }
        return try AppDatabase(queue)
    }

    /// The connection configuration: foreign keys enforced (GRDB's default), a 10-second busy
    /// timeout so that another process's write transaction is waited for instead of failing.
    public static func makeConfiguration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "plazo"
        config.prepareDatabase { db in
            // Durability of acknowledged batches: in WAL mode, FULL syncs the log on every commit,
            // so a receipt is only sent for a transaction that survives a power cut. A larger page
            // cache serves the ledger and release reads.
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536")
        }
        return config
    }

    /// The migrator: every registered ``StoreMigration`` in order of ``migrations``.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier, migrate: migration.migrate)
        }
        return migrator
    }

    /// Identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() async throws(StoreError) -> [String] {
        if let pg = postgres {
            do { return try await PostgresSchema.applied(pg).sorted() } catch { throw .database(PostgresEngine.describe(error)) }
        }
        guard let writer = sqlite else { return [] }
        do { return try await writer.read { db in try Self.migrator.appliedIdentifiers(db) }.sorted() } catch {
            throw .database(String(describing: error))
        }
    }
}

/// One schema step. Identifiers are permanent: once shipped, a migration is never edited,
/// renamed or reordered; change the schema with a new migration appended after it.
public struct StoreMigration: Sendable {
    /// A unique, stable name such as `"2026-11-ledger-v1"`.
    public let identifier: String
    /// The schema change.
    public let migrate: @Sendable (Database) throws -> Void

    /// A migration step.
    public init(_ identifier: String, migrate: @escaping @Sendable (Database) throws -> Void) {
        self.identifier = identifier
        self.migrate = migrate
    }
}

/// Failures of the store itself (opening, migrating, SQLite errors).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database file could not be opened.
    case openFailed(path: String, String)
    /// A migration failed; the database was left at the last successful one.
    case migrationFailed(String)
    /// Any other database error.
    case database(String)
    /// The database cannot be reached now (PostgreSQL down, connection lost): nothing was
    /// written; the request can be repeated once it is back.
    case unavailable(String)
    /// The store was written by a newer version of Plazo (it has migrations this one lacks).
    case newerSchema

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .openFailed(path, why): "cannot open database \(path): \(why)"
        case let .migrationFailed(why): "database migration failed: \(why)"
        case let .database(why): "database error: \(why)"
        case let .unavailable(why): why
        case .newerSchema:
            "this store was written by a newer version of Plazo (its schema has steps this version does not know); run that version, or restore a backup taken with this one"
        }
    }
}

extension AppDatabase {
    /// The environment variable that points the test suite at a PostgreSQL server
    /// (`postgres://…`): when it is set, ``forTesting()`` gives PostgreSQL stores.
    public static let testPostgresVariable = "PLAZO_TEST_POSTGRES"

    /// The engine the test suite runs on: PostgreSQL when ``testPostgresVariable`` is set.
    public static var testEngine: StoreEngineKind {
        ProcessInfo.processInfo.environment[testPostgresVariable].map { PostgresEngine.isURL($0) } == true ? .postgres : .sqlite
    }

    /// A fresh, empty store for one test: a private in-memory SQLite database or, when
    /// ``testPostgresVariable`` names a server, a new schema of its own in that database, so that
    /// the same suite checks both engines (`scripts/test.sh` runs it on each).
    public static func forTesting() async throws(StoreError) -> AppDatabase {
        guard testEngine == .postgres, let url = ProcessInfo.processInfo.environment[testPostgresVariable] else { return try inMemory() }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let separator = url.contains("?") ? "&" : "?"
        return try await AppDatabase(postgres: PostgresEngine(url: url + separator + "schema=" + name, maxConnections: 4))
    }
}

extension AppDatabase {
    /// Where a test that reopens its store keeps it: `directory/plazo.sqlite`, or on PostgreSQL
    /// (``testEngine``) a schema named after `directory`, so that reopening the same directory
    /// reopens the same store. Open it with ``open(location:)``.
    public static func testLocation(in directory: String) -> String {
        guard testEngine == .postgres, let url = ProcessInfo.processInfo.environment[testPostgresVariable] else {
            return directory + "/plazo.sqlite"
        }
        // FNV-1a 64 of the directory: temporary directories are unique, so are their schemas.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in directory.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let separator = url.contains("?") ? "&" : "?"
        return url + separator + "schema=d_" + String(hash, radix: 16)
    }
}
