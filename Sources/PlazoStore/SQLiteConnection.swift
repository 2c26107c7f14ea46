import Foundation
import GRDB

/// The SQLite engine's connection: a GRDB `Database` the caller holds (inside `read` or `write`).
struct SQLiteConnection: SQLConnection {
    let db: Database

    var engine: StoreEngineKind { .sqlite }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))
        return rows.map { row in
            SQLRow(names: Array(row.columnNames), values: row.databaseValues.map(Self.value))
        }
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        // `IMMEDIATE` takes SQLite's write lock before the first read, so a check-then-insert cannot
        // interleave with another process's (the busy timeout makes it wait).
        var result: T?
        try db.inTransaction(.immediate) {
            result = try body()
            return .commit
        }
        return result!
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
