import Foundation
import GRDB
import GRDBSQLite
import PlazoCases
import PlazoModel
import PlazoWire

/// What the store knows of a batch id.
public enum BatchLookup: Sendable, Equatable {
    /// Never seen.
    case unknown
    /// Already stored with exactly these bytes: here is its receipt (a replay).
    case sameBytes(receipt: [UInt8])
    /// Already stored with different bytes.
    case differentBytes
}

/// The outcome of committing one batch.
public enum CommitOutcome: Sendable {
    /// Stored now, with the signed receipt.
    case stored(receipt: [UInt8])
    /// The same bytes were already stored (possibly by a concurrent request): the original receipt.
    case replay(receipt: [UInt8])
    /// Another batch with this id is stored.
    case conflict
}

/// Store errors from the batch log.
public enum BatchLogError: Error, Sendable, CustomStringConvertible {
    case database(String)
    public var description: String {
        switch self {
        case let .database(reason): "database error: \(reason)"
        }
    }
}

/// The log of accepted batches — the source of truth — and the case state derived from it.
///
/// - `batch`: each accepted batch exactly as received (header, ciphertext, signature), its digest
///   and its signed receipt. The decrypted payload is never written.
/// - `case_event`: the set of distinct de-identified events of each case (the normal form of case
///   state: ``PlazoCases`` derives everything else from it). Keyed by (pseudonym, record bytes), so
///   an event sent twice, in one batch or in two, is held once.
///
/// A batch, its events and its receipt are written in one transaction: after a crash either all
/// of them are there or none is.
public struct BatchLog: Sendable {
    let database: AppDatabase

    public init(_ database: AppDatabase) { self.database = database }

    /// The log's tables.
    public static let migrations: [StoreMigration] = [
        StoreMigration("v1-batch-log") { db in
            try db.execute(sql: """
                CREATE TABLE batch (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    batch_id BLOB NOT NULL UNIQUE CHECK (length(batch_id) = 16),
                    agency_id INTEGER NOT NULL REFERENCES agency(id),
                    signing_key_id BLOB NOT NULL CHECK (length(signing_key_id) = 8),
                    created_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    record_count INTEGER NOT NULL CHECK (record_count >= 1),
                    accepted INTEGER NOT NULL,
                    new_events INTEGER NOT NULL,
                    digest BLOB NOT NULL CHECK (length(digest) = 32),
                    bytes BLOB NOT NULL,
                    receipt BLOB NOT NULL
                );
                CREATE TABLE case_event (
                    pseudonym BLOB NOT NULL CHECK (length(pseudonym) = 16),
                    record BLOB NOT NULL CHECK (length(record) = 16),
                    agency_id INTEGER NOT NULL,
                    -- No REFERENCES clause: every row is written in the transaction of the batch it
                    -- names, and a foreign-key lookup per event would cost a third of the insert.
                    batch_seq INTEGER NOT NULL,
                    PRIMARY KEY (pseudonym, record)
                ) WITHOUT ROWID;
                """)
        }
    ]

    /// Looks a batch id up: unknown, the same bytes (a replay), or different bytes.
    public func lookup(batchID: BatchID, digest: [UInt8]) throws(BatchLogError) -> BatchLookup {
        do {
            return try database.reader.read { db in try Self.lookup(db, batchID: batchID, digest: digest) }
        } catch { throw .database(String(describing: error)) }
    }

    static func lookup(_ db: Database, batchID: BatchID, digest: [UInt8]) throws -> BatchLookup {
        guard let row = try Row.fetchOne(db, sql: "SELECT digest, receipt FROM batch WHERE batch_id = ?", arguments: [Data(batchID.bytes)]) else {
            return .unknown
        }
        let stored: Data = row["digest"]
        if Array(stored) == digest {
            let receipt: Data = row["receipt"]
            return .sameBytes(receipt: Array(receipt))
        }
        return .differentBytes
    }

    /// Stores a verified batch, its accepted events and its receipt in one transaction.
    ///
    /// - Parameters:
    ///   - bytes: the batch exactly as received.
    ///   - digest: BLAKE2b-256 of `bytes`.
    ///   - events: the records that passed validation.
    ///   - makeReceipt: called inside the transaction with the number of new events; returns the
    ///     signed receipt bytes to store and answer with.
    public func commit(
        bytes: [UInt8], digest: [UInt8], header: BatchHeader, receivedAt: Int64, events: [CaseEvent],
        makeReceipt: (_ newEvents: Int) throws -> [UInt8]
    ) throws -> CommitOutcome {
        try database.writer.write { db -> CommitOutcome in
            // Checked again inside the write transaction: writes are serialised, so two concurrent
            // submissions of one batch id cannot both get past this point.
            switch try Self.lookup(db, batchID: header.batchID, digest: digest) {
            case let .sameBytes(receipt): return .replay(receipt: receipt)
            case .differentBytes: return .conflict
            case .unknown: break
            }
            try db.execute(
                sql: """
                    INSERT INTO batch (batch_id, agency_id, signing_key_id, created_at, received_at, record_count,
                                       accepted, new_events, digest, bytes, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, x'')
                    """,
                arguments: [
                    Data(header.batchID.bytes), Int64(header.agencyID), Data(header.signingKeyID.bytes), header.createdAt,
                    receivedAt, Int64(header.recordCount), events.count, Data(digest), Data(bytes),
                ]
            )
            let seq = db.lastInsertedRowID
            // The hot loop binds through SQLite's C API on GRDB's cached statements: building a
            // StatementArguments array and two Data values per event costs more than the insert.
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO case_event (pseudonym, record, agency_id, batch_seq) VALUES (?, ?, ?, ?)"
            ).sqliteStatement
            let lowerAttribution = try db.cachedStatement(
                sql: "UPDATE case_event SET agency_id = ?1 WHERE pseudonym = ?2 AND record = ?3 AND agency_id > ?1"
            ).sqliteStatement
            let connection = db.sqliteConnection
            var newCount = 0
            var record = [UInt8](repeating: 0, count: EventRecord.byteCount)
            let agency = Int64(header.agencyID)
            for event in events {
                let outcome: Int32 = record.withUnsafeMutableBytes { buffer -> Int32 in
                    EventRecord.encode(event, into: buffer)
                    let base = UnsafeRawPointer(buffer.baseAddress!)
                    // SQLITE_STATIC (nil): the buffer outlives the step below, and reset unbinds nothing
                    // that is read later.
                    sqlite3_bind_blob(insert, 1, base, 16, nil)
                    sqlite3_bind_blob(insert, 2, base + 16, 16, nil)
                    sqlite3_bind_int64(insert, 3, agency)
                    sqlite3_bind_int64(insert, 4, seq)
                    let rc = sqlite3_step(insert)
                    sqlite3_reset(insert)
                    guard rc == SQLITE_DONE else { return rc }
                    if sqlite3_changes(connection) > 0 { return -1 }
                    // Already held: keep it attributed to the smallest agency id, as PlazoCases
                    // does, so that attribution does not depend on arrival order.
                    sqlite3_bind_int64(lowerAttribution, 1, agency)
                    sqlite3_bind_blob(lowerAttribution, 2, base, 16, nil)
                    sqlite3_bind_blob(lowerAttribution, 3, base + 16, 16, nil)
                    let rc2 = sqlite3_step(lowerAttribution)
                    sqlite3_reset(lowerAttribution)
                    return rc2 == SQLITE_DONE ? 0 : rc2
                }
                if outcome == -1 {
                    newCount += 1
                } else if outcome != 0 {
                    throw DatabaseError(resultCode: ResultCode(rawValue: outcome), message: String(cString: sqlite3_errmsg(connection)))
                }
            }
            let receipt = try makeReceipt(newCount)
            try db.execute(
                sql: "UPDATE batch SET receipt = ?, new_events = ? WHERE seq = ?",
                arguments: [Data(receipt), newCount, seq]
            )
            return .stored(receipt: receipt)
        }
    }

    /// The stored receipt of a batch and the agency that sent it.
    public func receipt(batchID: BatchID) throws(BatchLogError) -> (agencyID: UInt32, receipt: [UInt8])? {
        do {
            return try database.reader.read { db -> (UInt32, [UInt8])? in
                guard let row = try Row.fetchOne(db, sql: "SELECT agency_id, receipt FROM batch WHERE batch_id = ?", arguments: [Data(batchID.bytes)]) else {
                    return nil
                }
                let receipt: Data = row["receipt"]
                return (UInt32(row["agency_id"] as Int64), Array(receipt))
            }
        } catch { throw .database(String(describing: error)) }
    }

    /// Calls `body` with every stored batch in acceptance order (for `plazo rebuild`). Batches are
    /// read a page at a time, and `body` runs outside any database access, so it may use the store.
    public func forEachBatch(_ body: (_ seq: Int64, _ agencyID: UInt32, _ bytes: [UInt8], _ receivedAt: Int64) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let page = try database.reader.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT seq, agency_id, bytes, received_at FROM batch WHERE seq > ? ORDER BY seq LIMIT 32",
                    arguments: [after]
                )
            }
            if page.isEmpty { return }
            for row in page {
                let bytes: Data = row["bytes"]
                try body(row["seq"], UInt32(row["agency_id"] as Int64), Array(bytes), row["received_at"])
                after = row["seq"]
            }
        }
    }

    /// Calls `body` with every held event and the agency it is attributed to. Order is not
    /// meaningful: case state does not depend on it. `body` runs outside any database access.
    public func forEachEvent(_ body: (CaseEvent, AgencyID) throws -> Void) throws {
        var afterPseudonym = Data()
        var afterRecord = Data()
        var buffer = [UInt8](repeating: 0, count: EventRecord.byteCount)
        let farFuture = Day(rawValue: .max)
        while true {
            let page = try database.reader.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT pseudonym, record, agency_id FROM case_event
                        WHERE (pseudonym, record) > (?, ?) ORDER BY pseudonym, record LIMIT 50000
                        """,
                    arguments: [afterPseudonym, afterRecord]
                )
            }
            if page.isEmpty { return }
            for row in page {
                let p: Data = row["pseudonym"]
                let r: Data = row["record"]
                buffer.replaceSubrange(0..<16, with: p)
                buffer.replaceSubrange(16..<32, with: r)
                let event = try EventRecord.decode(buffer, latestDay: farFuture)
                try body(event, AgencyID(UInt32(row["agency_id"] as Int64)))
                afterPseudonym = p
                afterRecord = r
            }
        }
    }

    /// Counts for operators: batches, distinct events, distinct cases.
    public func counts() throws -> (batches: Int, events: Int, cases: Int) {
        try database.reader.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM case_event") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(DISTINCT pseudonym) FROM case_event") ?? 0
            )
        }
    }
}
