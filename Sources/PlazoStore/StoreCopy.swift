import Foundation

/// Copies a whole store into an empty one: every table, row for row, with the same ids, the same
/// bytes and the same date texts (`plazo store copy --from plazo.sqlite --to postgres://…`).
///
/// The copy is one write transaction on the target holding its writer lock: either all of it is
/// there or none is, and no replica can write in between. The caller then verifies it
/// (`plazo store copy` compares the row counts and the batch log's fingerprint, and replays every
/// batch with the service's keys as `plazo rebuild` does).
public enum StoreCopy {
    /// The tables in an order that satisfies their foreign keys, with the column to page by.
    public static let tables: [(name: String, order: String)] = [
        ("agency", "id"), ("agency_key", "key_id"),
        ("privacy_budget_change", "id"), ("privacy_budget_reason", "change_id"),
        ("privacy_spend", "id"), ("privacy_spend_scope", "spend_id, scope"),
        ("batch", "seq"), ("api_token", "id"),
        ("release", "id"), ("release_draft", "id"), ("release_status", "id"), ("release_public", "release_id"),
        ("continual_step", "cohort, table_key, step"),
    ]

    /// Tables whose ids come from a sequence on PostgreSQL (set past the copied rows afterwards).
    static let sequences: [(table: String, column: String)] = [
        ("agency", "id"), ("privacy_budget_change", "id"), ("privacy_spend", "id"), ("batch", "seq"),
        ("api_token", "id"), ("release_draft", "id"), ("release_status", "id"),
    ]

    /// Why a copy was refused.
    public enum Failure: Error, CustomStringConvertible {
        case targetNotEmpty([String])
        public var description: String {
            switch self {
            case let .targetNotEmpty(tables):
                "the target store is not empty (rows in \(tables.joined(separator: ", "))); copy into a new database or schema, nothing was written"
            }
        }
    }

    /// The number of rows of every table of `database`, in ``tables`` order.
    public static func rowCounts(_ database: AppDatabase) async throws -> [String: Int] {
        try await database.read { db in
            var out: [String: Int] = [:]
            for t in tables { out[t.name] = try await db.scalar("SELECT count(*) FROM \(t.name)") ?? 0 }
            return out
        }
    }

    /// Copies every row of `source` into `target`, which must be empty. `progress` hears each
    /// table's name and the rows copied so far.
    public static func copy(from source: AppDatabase, to target: AppDatabase, progress: (String, Int) -> Void = { _, _ in }) async throws {
        let nonEmpty = try await rowCounts(target).filter { $0.value > 0 }.map(\.key).sorted()
        if !nonEmpty.isEmpty { throw Failure.targetNotEmpty(nonEmpty) }
        try await target.write { out in
            for table in tables {
                var copied = 0
                if table.name == "batch" {
                    // The log can be large: a page at a time.
                    var after: Int64 = 0
                    while true {
                        let page = try await source.read { db in try await db.rows("SELECT * FROM batch WHERE seq > ? ORDER BY seq LIMIT 256", after) }
                        if page.isEmpty { break }
                        for row in page { try await insert(row, into: table.name, on: out) }
                        after = try page.last!["seq"]
                        copied += page.count
                        progress(table.name, copied)
                    }
                } else {
                    let rows = try await source.read { db in try await db.rows("SELECT * FROM \(table.name) ORDER BY \(table.order)") }
                    for row in rows { try await insert(row, into: table.name, on: out) }
                    copied = rows.count
                    progress(table.name, copied)
                }
            }
            if out.engine == .postgres {
                for s in sequences {
                    try await out.execute("""
                        SELECT setval(pg_get_serial_sequence('\(s.table)', '\(s.column)'),
                                      (SELECT COALESCE(MAX(\(s.column)), 0) + 1 FROM \(s.table)), false)
                        """)
                }
            }
        }
    }

    static func insert(_ row: SQLRow, into table: String, on db: any SQLConnection) async throws {
        let columns = row.names.joined(separator: ", ")
        let marks = Array(repeating: "?", count: row.names.count).joined(separator: ", ")
        try await db.execute("INSERT INTO \(table) (\(columns)) VALUES (\(marks))", row.values)
    }
}
