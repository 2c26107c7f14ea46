import Foundation
import GRDB

/// The service's embedded SQLite database: one writer (a WAL-mode `DatabasePool` on a file, or an
/// in-memory `DatabaseQueue` for tests), with the schema brought up to date by a named
/// `DatabaseMigrator` when it is opened.
///
/// Every feature owns its tables and contributes its migrations through ``AppDatabase/migrations``
/// (see `Migrations.swift`); a feature's data access (e.g. ``BudgetLedger``) takes an
/// `AppDatabase` and uses ``writer``.
public final class AppDatabase: Sendable {
    /// The connection(s). Writes are serialised by GRDB within a process; across processes, write
    /// transactions that must check-then-insert use `BEGIN IMMEDIATE` (see ``BudgetLedger``) and the
    /// busy timeout below.
    public let writer: any DatabaseWriter

    /// Reads (a `DatabasePool` serves them concurrently from WAL snapshots).
    public var reader: any DatabaseReader { writer }

    /// Wraps an open writer and migrates it to the current schema.
    public init(_ writer: any DatabaseWriter) throws(StoreError) {
        self.writer = writer
        // A store written by a newer Plazo has migrations this binary does not know: refuse it
        // rather than run on a schema it cannot read.
        let superseded: Bool
        do { superseded = try writer.read { db in try Self.migrator.hasBeenSuperseded(db) } } catch {
            throw .migrationFailed(String(describing: error))
        }
        if superseded { throw .newerSchema }
        do { try Self.migrator.migrate(writer) } catch { throw .migrationFailed(String(describing: error)) }
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
    public func integrityCheck() throws(StoreError) -> [String] {
        do { return try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } } catch {
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
    public func appliedMigrations() throws(StoreError) -> [String] {
        do { return try writer.read { db in try Self.migrator.appliedIdentifiers(db) }.sorted() } catch {
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
    /// Any other SQLite error.
    case database(String)
    /// The store was written by a newer version of Plazo (it has migrations this one lacks).
    case newerSchema

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .openFailed(path, why): "cannot open database \(path): \(why)"
        case let .migrationFailed(why): "database migration failed: \(why)"
        case let .database(why): "database error: \(why)"
        case .newerSchema:
            "this store was written by a newer version of Plazo (its schema has steps this version does not know); run that version, or restore a backup taken with this one"
        }
    }
}
