import Foundation
import GRDB

/// The SQLite engine's connection: a GRDB `Database` the caller holds (inside one of GRDB's
/// accesses, on GRDB's queue). Its `async` methods never suspend: a statement is a C call on the
/// current thread (see ``SQLiteInline``).
struct SQLiteConnection: SQLConnection, @unchecked Sendable {
    // Unchecked: a `Database` may only be used on its GRDB queue. This value never leaves the
    // access that made it: ``SQLiteInline/run(_:_:)`` runs the whole body there and checks it.
    let db: Database

    var engine: StoreEngineKind { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) async throws {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))
        return rows.map { row in
            SQLRow(names: Array(row.columnNames), values: row.databaseValues.map(Self.value))
        }
    }

    func transaction<T>(_ body: () async throws -> T) async throws -> T {
        // `IMMEDIATE` takes SQLite's write lock before the first read, so a check-then-insert cannot
        // interleave with another process's (the busy timeout makes it wait, on GRDB's thread).
        try db.execute(sql: "BEGIN IMMEDIATE TRANSACTION")
        do {
            let result = try await body()
            try db.execute(sql: "COMMIT TRANSACTION")
            return result
        } catch {
            // SQLite may have rolled back by itself (some errors end the transaction).
            if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
            throw error
        }
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { v -> (any DatabaseValueConvertible)? in
            switch v {
            case .null: nil
            case let .integer(i): i
            case let .text(s): s
            case let .blob(b): Data(b)
            }
        })
    }

    static func value(_ v: DatabaseValue) -> SQLValue {
        switch v.storage {
        case .null: .null
        case let .int64(i): .integer(i)
        case let .double(d): .integer(Int64(d))
        case let .string(s): .text(s)
        case let .blob(b): .blob(Array(b))
        }
    }
}

/// Runs a store operation's `async` body inside one GRDB access, to completion, on GRDB's thread.
///
/// **Why this works.** GRDB's async accesses (`try await writer.read { db in … }`) take a
/// synchronous closure and run it on GRDB's own queue while the caller's task is suspended: no
/// Swift concurrency thread waits for SQLite, a lock or a disk. A store body is `async` because
/// PostgreSQL's statements suspend; SQLite's never do (``SQLiteConnection``). `Task.immediate`
/// (SE-0472) starts the body on the current thread, GRDB's, and runs it until its first
/// suspension; a body that awaits only SQLite connections has none, so when `Task.immediate`
/// returns, the body has finished, on GRDB's thread, inside the access, with every statement
/// where GRDB requires it.
///
/// **What it refuses.** A body that suspends (it awaited something else than its connection)
/// would go on after the access ended, off GRDB's thread: that is a programming error, and it
/// stops the process with a sentence naming the rule (``SQLConnection``'s "a body awaits only this
/// connection"). GRDB's own scheduling watchdog would stop it anyway on the next statement.
enum SQLiteInline {
    /// Runs `body(connection)` to completion on the current thread; returns its result or rethrows.
    static func run<T>(_ db: Database, _ body: (any SQLConnection) async throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            // The box is emptied as the body starts, so that nothing holds the body once it has
            // returned, whenever the runtime frees the finished task (`withoutActuallyEscaping`
            // checks that the body did not escape).
            let work = Unchecked<((any SQLConnection) async throws -> T)?>(body)
            let outcome = Unchecked<Result<T, any Error>?>(nil)
            let connection = SQLiteConnection(db: db)
            Task.immediate {
                let body = work.value!
                work.value = nil
                do { outcome.value = .success(try await body(connection)) } catch { outcome.value = .failure(error) }
            }
            guard let result = outcome.value else {
                preconditionFailure("a SQLite store body suspended: store bodies must await only their SQLConnection (see SQLConnection)")
            }
            return try result.get()
        }
    }
}

/// A value handed across a boundary the compiler cannot see is safe: a body that
/// ``SQLiteInline`` runs to completion before it returns, or a result handed from GRDB's thread to
/// the one task that waits for it.
final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
