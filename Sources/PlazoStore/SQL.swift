import Foundation
import PlazoModel

// The store's data access is written once, against this small interface, and runs on two
// engines: embedded SQLite through GRDB (`SQLiteConnection`), and PostgreSQL through postgres-nio
// (`PostgresEngine`). Statements use `?` placeholders and the SQL both engines accept: integers
// are 64-bit, byte strings are BLOB / bytea, dates are text in GRDB's format
// (`YYYY-MM-DD HH:MM:SS.SSS`, UTC), ids come back through `RETURNING`, and sums are cast to
// BIGINT. Only the schema (see `Migrations.swift` and `PostgresSchema.swift`) is written per engine.

/// A value bound to a statement or read from a row, the same on both engines.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that can be bound to a statement.
public protocol SQLBindable {
    /// The value as bound.
    var sqlValue: SQLValue { get }
}

/// A Swift value that can be read from a column.
public protocol SQLReadable {
    /// Decodes a non-null column value.
    static func read(_ value: SQLValue) throws -> Self
}

extension Int64: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .integer(self) }
    public static func read(_ value: SQLValue) throws -> Int64 {
        guard case let .integer(v) = value else { throw SQLError.type(expected: "integer", found: value) }
        return v
    }
}

extension Int: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func read(_ value: SQLValue) throws -> Int { Int(try Int64.read(value)) }
}

extension String: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .text(self) }
    public static func read(_ value: SQLValue) throws -> String {
        guard case let .text(v) = value else { throw SQLError.type(expected: "text", found: value) }
        return v
    }
}

extension Array: SQLBindable, SQLReadable where Element == UInt8 {
    public var sqlValue: SQLValue { .blob(self) }
    public static func read(_ value: SQLValue) throws -> [UInt8] {
        guard case let .blob(v) = value else { throw SQLError.type(expected: "blob", found: value) }
        return v
    }
}

extension ArraySlice: SQLBindable where Element == UInt8 {
    public var sqlValue: SQLValue { .blob(Array(self)) }
}

extension Date: SQLBindable, SQLReadable {
    /// Text in GRDB's date format, so that stores written before this layer read the same.
    public var sqlValue: SQLValue { .text(SQLDate.format(self)) }
    public static func read(_ value: SQLValue) throws -> Date {
        guard case let .text(v) = value, let date = SQLDate.parse(v) else { throw SQLError.type(expected: "date text", found: value) }
        return date
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A row read from either engine: column values by name.
public struct SQLRow: Sendable {
    /// The column names, in order.
    public let names: [String]
    /// The values, in the same order.
    public let values: [SQLValue]

    /// A row of `names` and `values` (same length).
    public init(names: [String], values: [SQLValue]) {
        self.names = names
        self.values = values
    }

    /// The raw value of `column`.
    public func value(_ column: String) throws -> SQLValue {
        guard let i = names.firstIndex(of: column) else { throw SQLError.noColumn(column) }
        return values[i]
    }

    /// `column` decoded; throws if it is NULL or of another type.
    public subscript<T: SQLReadable>(_ column: String) -> T {
        get throws {
            let v = try value(column)
            if case .null = v { throw SQLError.null(column) }
            return try T.read(v)
        }
    }

    /// `column` decoded, nil for NULL.
    public subscript<T: SQLReadable>(_ column: String) -> T? {
        get throws {
            let v = try value(column)
            if case .null = v { return nil }
            return try T.read(v)
        }
    }

    /// The first column, for single-value queries.
    var first: SQLValue { values.first ?? .null }
}

/// Errors of the SQL layer itself (the engines' own errors pass through as they are).
public enum SQLError: Error, Sendable, CustomStringConvertible {
    case type(expected: String, found: SQLValue)
    case null(String)
    case noColumn(String)

    public var description: String {
        switch self {
        case let .type(expected, found): "expected \(expected), found \(found)"
        case let .null(column): "column \(column) is NULL"
        case let .noColumn(column): "no column \(column)"
        }
    }
}

/// A connection of either engine, inside or outside a transaction.
///
/// **Asynchronous, and written once for both engines.** A store operation is an `async` body
/// over this interface. On PostgreSQL every statement is a network round trip on postgres-nio's
/// `PostgresClient` and suspends its task; nothing waits on a thread. On SQLite the whole body
/// runs inside one GRDB access on GRDB's own queue (its async `read`/`write`, see
/// ``SQLiteInline``), where a statement is a C call that never suspends: one hop per operation, as
/// with GRDB's own API, not one per statement.
///
/// The rule that makes the second possible: **a body awaits only this connection** (and other
/// bodies over it). It never awaits an actor, a sleep or another task. SQLite bodies are checked:
/// one that suspends stops the process with a message naming the rule (``SQLiteInline``).
public protocol SQLConnection: Sendable {
    /// Which engine this is (for the few statements that differ).
    var engine: StoreEngineKind { get }
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) async throws
    /// Runs a query and returns every row.
    func fetchAll(_ sql: String, _ arguments: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in a transaction that takes the store's write lock before its first read (SQLite
    /// `BEGIN IMMEDIATE`; PostgreSQL `BEGIN` and the writer lock, see ``PostgresEngine``). Commits
    /// when `body` returns, rolls back when it throws.
    func transaction<T>(_ body: () async throws -> T) async throws -> T
}

/// The two engines.
public enum StoreEngineKind: String, Sendable {
    case sqlite
    case postgres
}

extension SQLConnection {
    /// ``execute(_:_:)`` with bindable arguments.
    public func execute(_ sql: String, _ arguments: any SQLBindable...) async throws {
        try await execute(sql, arguments.map(\.sqlValue))
    }

    /// Every row, with bindable arguments.
    public func rows(_ sql: String, _ arguments: any SQLBindable...) async throws -> [SQLRow] {
        try await fetchAll(sql, arguments.map(\.sqlValue))
    }

    /// The first row, or nil.
    public func row(_ sql: String, _ arguments: any SQLBindable...) async throws -> SQLRow? {
        try await fetchAll(sql, arguments.map(\.sqlValue)).first
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func scalar<T: SQLReadable>(_ sql: String, _ arguments: any SQLBindable...) async throws -> T? {
        guard let row = try await fetchAll(sql, arguments.map(\.sqlValue)).first else { return nil }
        if case .null = row.first { return nil }
        return try T.read(row.first)
    }

    /// The first column of every row (NULLs skipped).
    public func column<T: SQLReadable>(_ sql: String, _ arguments: any SQLBindable...) async throws -> [T] {
        try await fetchAll(sql, arguments.map(\.sqlValue)).compactMap { row in
            if case .null = row.first { return nil }
            return try T.read(row.first)
        }
    }

    /// Runs an `INSERT … RETURNING id` and returns the id.
    public func insert(_ sql: String, _ arguments: any SQLBindable...) async throws -> Int64 {
        guard let row = try await fetchAll(sql + " RETURNING id", arguments.map(\.sqlValue)).first else {
            throw SQLError.null("id")
        }
        return try Int64.read(row.first)
    }
}

/// GRDB's text format for dates (UTC, milliseconds), written and read without a `DateFormatter`.
enum SQLDate {
    static func format(_ date: Date) -> String {
        // Milliseconds since the epoch, rounded down as GRDB does.
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = Day.civilFromDays(Int(days))
        func pad(_ v: some BinaryInteger, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let h = msOfDay / 3_600_000, mi = msOfDay / 60000 % 60, s = msOfDay / 1000 % 60, f = msOfDay % 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(f, 3))"
    }

    /// Parses `YYYY-MM-DD HH:MM[:SS[.SSS]]` (also with `T`), UTC.
    static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= u.count else { return nil }
            var v: Int64 = 0
            for c in u[from..<from + count] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard u.count >= 16, let y = num(0, 4), let m = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2) else {
            return nil
        }
        let s = u.count >= 19 ? num(17, 2) ?? 0 : 0
        var ms: Int64 = 0
        if u.count > 20, u[19] == UInt8(ascii: ".") {
            var scale: Int64 = 100
            for c in u[20...] where c >= 48 && c <= 57 && scale > 0 {
                ms += Int64(c - 48) * scale
                scale /= 10
            }
        }
        let days = Int64(Day.daysFromCivil(year: Int(y), month: Int(m), day: Int(d)))
        let total = ((days * 24 + h) * 60 + mi) * 60 + s
        return Date(timeIntervalSince1970: Double(total) + Double(ms) / 1000)
    }
}
