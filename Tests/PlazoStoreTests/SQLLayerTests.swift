import Foundation
import GRDB
import Testing

@testable import PlazoStore

/// The engine-neutral SQL layer: dates, values and rows read the same on both engines.
@Suite("SQL layer")
struct SQLLayerTests {
    @Test("dates round-trip through GRDB's text format to the millisecond, before and after 1970")
    func dateText() throws {
        for seconds in [0.0, 1_750_000_000.123, 1_750_000_000.999, -86_400.5, 951_782_400.0 /* 2000-02-29 */, 4_102_444_799.001] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = SQLDate.format(date)
            let back = try #require(SQLDate.parse(text))
            // Stored to the millisecond (rounded down): within 1 ms, and the same text again.
            #expect(back.timeIntervalSince1970 <= seconds + 1e-6 && seconds - back.timeIntervalSince1970 < 0.001, "\(text)")
            #expect(SQLDate.format(back) == text)
        }
        #expect(SQLDate.format(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29 00:00:00.500")
        #expect(SQLDate.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31 23:59:59.500")
        #expect(SQLDate.parse("2026-11-30T15:01:51Z") == Date(timeIntervalSince1970: 1_796_050_911))
        #expect(SQLDate.parse("not a date") == nil)
    }

    @Test("a date GRDB wrote (stores made before this layer) reads back equal, and one this layer writes GRDB reads equal")
    func grdbCompatibility() throws {
        let queue = try DatabaseQueue()
        let date = Date(timeIntervalSince1970: 1_764_512_345.678)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, mine TEXT)")
            try db.execute(sql: "INSERT INTO t (at, mine) VALUES (?, ?)", arguments: [date, SQLDate.format(date)])
        }
        try queue.read { db in
            let read = try SQLiteInline.run(db) { conn in try await conn.row("SELECT at, mine FROM t") }
            let row = try #require(read)
            let grdbWritten: Date = try row["at"]
            #expect(abs(grdbWritten.timeIntervalSince(date)) < 0.001)
            #expect(try row["at"] as String == row["mine"] as String)
            #expect(try Date.fetchOne(db, sql: "SELECT mine FROM t") == grdbWritten)
        }
    }

    @Test("NULL, integers, text and bytes come back as bound; a NULL read as a value is an error, as an optional nil")
    func values() async throws {
        let database = try await AppDatabase.forTesting()
        try await database.write { db in
            try await db.execute("CREATE TABLE sql_layer_values (i BIGINT, t TEXT, b \(db.engine == .postgres ? "BYTEA" : "BLOB"), n BIGINT)")
            try await db.execute("INSERT INTO sql_layer_values (i, t, b, n) VALUES (?, ?, ?, ?)", Int64.min, "ñ'?\"", [UInt8](0...255), Int64?.none)
        }
        let row = try #require(try await database.read { db in try await db.row("SELECT i, t, b, n FROM sql_layer_values WHERE t = ?", "ñ'?\"") })
        #expect(try row["i"] as Int64 == .min)
        #expect(try row["t"] as String == "ñ'?\"")
        #expect(try row["b"] as [UInt8] == [UInt8](0...255))
        #expect(try row["n"] as Int64? == nil)
        #expect(throws: SQLError.self) { try row["n"] as Int64 }
        #expect(throws: SQLError.self) { try row["t"] as Int64 }
    }
}
