import Foundation
import GRDB
import PlazoModel
import PlazoSodium
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

/// The log of accepted batches: the source of truth, and the only durable form of case events.
///
/// - `batch`: each accepted batch exactly as received (header, sealed payload, signature), its
///   digest and its signed receipt, written in one transaction: after a crash either all of it is
///   there or none is.
///
/// Decrypted events are never written to disk. The in-memory case index is the one materialised
/// form of case state; the service rebuilds it at start-up by re-opening the stored batches in
/// acceptance order (`IngestService`), and `plazo rebuild` audits the log against the receipts.
///
/// Until version 2 of this store each event was also inserted into a `case_event` table. That
/// duplicated the index, kept every de-identified event in plaintext at rest, and cost most of
/// the time of a durable ingest (10,000 random-key B-tree inserts per batch touch thousands of
/// pages that every commit then writes to the WAL); see `docs/ingest.md`.
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
                    batch_seq INTEGER NOT NULL,
                    PRIMARY KEY (pseudonym, record)
                ) WITHOUT ROWID;
                """)
        },
        // The events are derived from the batches (the index is rebuilt from them), so dropping
        // their plaintext copy loses nothing.
        StoreMigration("v2-drop-case-event") { db in
            try db.execute(sql: "DROP TABLE case_event")
        },
        // The quality report reads an agency's receipts in order (`rejectedRecordCounts(agencyID:)`):
        // the index the PostgreSQL schema has had from its first step, which SQLite lacked (found
        // by SchemaParityTests).
        StoreMigration("2026-12-batch-by-agency") { db in
            try db.execute(sql: "CREATE INDEX batch_by_agency ON batch(agency_id, seq)")
        },
    ]

    /// Looks a batch id up: unknown, the same bytes (a replay), or different bytes.
    public func lookup(batchID: BatchID, digest: [UInt8]) async throws(BatchLogError) -> BatchLookup {
        do {
            return try await database.readStatement { db in try await Self.lookup(db, batchID: batchID, digest: digest) }
        } catch { throw .database(String(describing: error)) }
    }

    static func lookup(_ db: any SQLConnection, batchID: BatchID, digest: [UInt8]) async throws -> BatchLookup {
        guard let row = try await db.row("SELECT digest, receipt FROM batch WHERE batch_id = ?", batchID.bytes) else {
            return .unknown
        }
        let stored: [UInt8] = try row["digest"]
        if stored == digest { return .sameBytes(receipt: try row["receipt"]) }
        return .differentBytes
    }

    /// Stores a verified batch and its receipt in one transaction.
    ///
    /// Commits are serialised (the store has one writer: SQLite's, or on PostgreSQL the writer
    /// lock every replica takes), and the callbacks run inside that serialised section:
    /// `beforeCount` first (a replica applies the batches other replicas stored meanwhile),
    /// `makeReceipt` before the batch is written, `afterCommit` once the transaction is durable
    /// and before the next commit starts. Together they let the caller count new events against
    /// in-memory state and then apply the batch to it, with no other batch in between.
    ///
    /// - Parameters:
    ///   - bytes: the batch exactly as received.
    ///   - digest: BLAKE2b-256 of `bytes`.
    ///   - accepted: the number of records that passed validation.
    ///   - beforeCount: runs first, on the writer's connection.
    ///   - makeReceipt: returns the signed receipt bytes and its count of new events.
    ///   - afterCommit: runs only when the batch was stored now (not for a replay or a conflict),
    ///     with the batch's acceptance number.
    public func commit(
        bytes: [UInt8], digest: [UInt8], header: BatchHeader, receivedAt: Int64, accepted: Int,
        beforeCount: (any SQLConnection) async throws -> Void = { _ in },
        makeReceipt: () throws -> (receipt: [UInt8], newEvents: Int),
        afterCommit: (Int64) -> Void
    ) async throws -> CommitOutcome {
        try await database.writeLocked { db -> CommitOutcome in
            var seq: Int64 = 0
            let outcome = try await db.transaction { () throws -> CommitOutcome in
                // Checked again inside the write transaction: writes are serialised, so two concurrent
                // submissions of one batch id (to one replica or to two) cannot both get past this point.
                switch try await Self.lookup(db, batchID: header.batchID, digest: digest) {
                case let .sameBytes(receipt): return .replay(receipt: receipt)
                case .differentBytes: return .conflict
                case .unknown: break
                }
                try await beforeCount(db)
                let (receipt, newEvents) = try makeReceipt()
                seq = try await db.scalar(
                    """
                    INSERT INTO batch (batch_id, agency_id, signing_key_id, created_at, received_at, record_count,
                                       accepted, new_events, digest, bytes, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
                    """,
                    header.batchID.bytes, Int64(header.agencyID.rawValue), header.signingKeyID.bytes, header.createdAt,
                    receivedAt, Int64(header.recordCount), accepted, newEvents, digest, bytes, receipt
                ) ?? 0
                return .stored(receipt: receipt)
            }
            // Here the transaction is committed (SQLite synchronous=FULL: the WAL is on disk;
            // PostgreSQL: the commit returned, with its WAL flushed under synchronous_commit=on).
            if case .stored = outcome { afterCommit(seq) }
            return outcome
        }
    }

    /// The stored receipt of a batch and the agency that sent it.
    public func receipt(batchID: BatchID) async throws(BatchLogError) -> (agencyID: AgencyID, receipt: [UInt8])? {
        do {
            return try await database.read { db -> (AgencyID, [UInt8])? in
                guard let row = try await db.row("SELECT agency_id, receipt FROM batch WHERE batch_id = ?", batchID.bytes) else {
                    return nil
                }
                return (AgencyID(UInt32(try row["agency_id"] as Int64)), try row["receipt"])
            }
        } catch { throw .database(String(describing: error)) }
    }

    /// One stored batch, as ``forEachBatch(_:)`` reads it.
    public struct StoredBatch: Sendable {
        /// The acceptance order.
        public let seq: Int64
        public let agencyID: AgencyID
        /// The batch exactly as received.
        public let bytes: [UInt8]
        /// When it was accepted (Unix seconds): records are validated as on that day.
        public let receivedAt: Int64
        /// The signed receipt that acknowledged it.
        public let receipt: [UInt8]
    }

    /// Calls `body` with every stored batch in acceptance order (start-up replay, `plazo rebuild`),
    /// or with those accepted after batch `after` only (the replay after a snapshot's watermark).
    /// Batches are read a page at a time, and `body` runs outside any database access, so it may
    /// use the store.
    public func forEachBatch(after first: Int64 = 0, _ body: (StoredBatch) throws -> Void) async throws {
        var after = first
        while true {
            let page = try await database.read { db in try await Self.page(db, after: after, limit: 32) }
            if page.isEmpty { return }
            for batch in page {
                try body(batch)
                after = batch.seq
            }
        }
    }

    /// Up to `limit` batches accepted after `after`, in order, read on a connection the caller holds.
    public static func page(_ db: any SQLConnection, after: Int64, limit: Int) async throws -> [StoredBatch] {
        try await db.rows("SELECT seq, agency_id, bytes, received_at, receipt FROM batch WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
            .map { row in
                StoredBatch(
                    seq: try row["seq"], agencyID: AgencyID(UInt32(try row["agency_id"] as Int64)), bytes: try row["bytes"],
                    receivedAt: try row["received_at"], receipt: try row["receipt"])
            }
    }

    /// A fingerprint of the log up to and including batch `seq`: BLAKE2b-256 over the acceptance
    /// number, agency, receipt time and digest of every stored batch with `seq <= seq`, in order,
    /// and how many there are. Everything a replay of those batches depends on is in it (the
    /// digest covers the bytes; records are validated as of the receipt time), so two logs with
    /// the same fingerprint replay to the same state: a case-index snapshot records it to be
    /// refused by any other store, or by this store rolled back to an earlier backup.
    ///
    /// Reads only the columns stored before the batch bytes, so it costs a page per few batches,
    /// not a read of the log.
    public func fingerprint(through seq: Int64) async throws -> (batches: Int, digest: [UInt8]) {
        var message = Array("plazo batch-log fingerprint v1".utf8)
        var batches = 0
        var after: Int64 = 0
        while true {
            let rows = try await database.read { db in
                try await db.rows(
                    "SELECT seq, agency_id, received_at, digest FROM batch WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 65536", after, seq)
            }
            if rows.isEmpty { break }
            for row in rows {
                for v in [try row["seq"] as Int64, try row["agency_id"] as Int64, try row["received_at"] as Int64] {
                    withUnsafeBytes(of: v.littleEndian) { message.append(contentsOf: $0) }
                }
                message.append(contentsOf: try row["digest"] as [UInt8])
                batches += 1
                after = try row["seq"]
            }
        }
        return (batches, try GenericHash.hash(message))
    }

    /// The acceptance number of the last stored batch (0: none).
    public func lastSeq() async throws -> Int64 {
        try await database.read { db in try await Self.lastSeq(db) }
    }

    /// The same, on a connection the caller holds.
    public static func lastSeq(_ db: any SQLConnection) async throws -> Int64 {
        try await db.scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM batch") ?? 0
    }

    /// The heads a replica compares with what it has applied: the last stored batch and the last
    /// release that pinned cohorts (one with a batch watermark), both 0 when there is none. One
    /// statement, so that the common answer, "nothing new", costs one round trip.
    public static func heads(_ db: any SQLConnection) async throws -> (lastBatch: Int64, lastPinningRelease: Int64) {
        guard let row = try await db.row("""
            SELECT (SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM batch) AS last_batch,
                   (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM release WHERE batch_seq IS NOT NULL) AS last_release
            """) else { return (0, 0) }
        return (try row["last_batch"], try row["last_release"])
    }

    /// Records rejected at ingest in the batches of `agencyID`, by reason code, read from the
    /// signed receipts (`day_in_future`, `invalid_detail`, …).
    public func rejectedRecordCounts(agencyID: AgencyID) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        var after: Int64 = 0
        while true {
            let page = try await database.read { db in
                try await db.rows(
                    "SELECT seq, receipt FROM batch WHERE agency_id = ? AND seq > ? ORDER BY seq LIMIT 256",
                    Int64(agencyID.rawValue), after)
            }
            if page.isEmpty { return counts }
            for row in page {
                after = try row["seq"]
                guard let receipt = try? Receipt.parse(try row["receipt"]) else { continue }
                for r in receipt.rejected { counts[r.reason.code, default: 0] += 1 }
            }
        }
    }

    /// The number of stored batches; with `after`, of those accepted after that one.
    public func batchCount(after seq: Int64 = 0) async throws -> Int {
        try await database.read { db in try await db.scalar("SELECT count(*) FROM batch WHERE seq > ?", seq) ?? 0 }
    }
}
