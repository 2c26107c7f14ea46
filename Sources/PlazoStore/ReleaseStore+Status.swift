import Foundation
import GRDB

/// The status of a release or a draft. The release rows themselves are immutable; statuses are
/// an append-only history beside them (`release_status`), the latest row being the current one.
public enum ReleaseStatus: String, Sendable, Codable, Hashable {
    /// A planned release: its spec only. Nothing was computed, no noise drawn, nothing spent.
    case draft
    /// Computed, charged, pinned and visible to researchers and dashboards.
    case published
    /// Hidden from researchers and dashboards. A withdrawn release keeps its spend (the noise was
    /// drawn and seen) and its pins; a withdrawn draft never spent anything.
    case withdrawn
}

/// One row of a release's or draft's status history.
public struct ReleaseStatusChange: Sendable, Hashable, Codable {
    /// The status from this change on.
    public var status: ReleaseStatus
    /// When.
    public var changedAt: Date
    /// Who.
    public var changedBy: String
    /// Why (withdrawals).
    public var reason: String?
    /// The release (nil for a draft's own changes).
    public var releaseID: Int64?
    /// The draft (nil for releases created directly).
    public var draftID: Int64?
}

/// A stored draft: a release spec waiting to be published.
public struct ReleaseDraftRow: Sendable, Hashable {
    /// The draft id (its own sequence, not a release id).
    public var id: Int64
    /// When it was created.
    public var createdAt: Date
    /// Who created it.
    public var requester: String
    /// The spec's title.
    public var title: String
    /// The spec as given (JSON).
    public var spec: [UInt8]
    /// Its status history, oldest first (the last is current).
    public var history: [ReleaseStatusChange]
    /// The current status.
    public var status: ReleaseStatus { history.last?.status ?? .draft }
    /// The release that published it, if any.
    public var releaseID: Int64? { history.last(where: { $0.status == .published })?.releaseID }
}

/// Why a status change was refused.
public enum ReleaseStatusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No such release or draft.
    case notFound(String)
    /// The change does not apply to the current status.
    case invalidTransition(String)
    public var description: String {
        switch self {
        case let .notFound(s): s
        case let .invalidTransition(s): s
        }
    }
}

extension ReleaseStore {
    /// Stores a draft (the spec only) and its first status row.
    public func createDraft(requester: String, title: String, spec: [UInt8], at date: Date) throws -> ReleaseDraftRow {
        try database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO release_draft (created_at, requester, title, spec) VALUES (?, ?, ?, ?)",
                arguments: [date, requester, title, Data(spec)])
            let id = db.lastInsertedRowID
            try db.execute(
                sql: "INSERT INTO release_status (draft_id, status, changed_at, changed_by) VALUES (?, 'draft', ?, ?)",
                arguments: [id, date, requester])
            return try Self.draft(db, id: id)!
        }
    }

    /// Every draft, oldest first.
    public func drafts() throws -> [ReleaseDraftRow] {
        try database.reader.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM release_draft ORDER BY id").compactMap { try Self.draft(db, id: $0) }
        }
    }

    /// One draft, or nil.
    public func draft(id: Int64) throws -> ReleaseDraftRow? {
        try database.reader.read { db in try Self.draft(db, id: id) }
    }

    static func draft(_ db: Database, id: Int64) throws -> ReleaseDraftRow? {
        guard let r = try Row.fetchOne(db, sql: "SELECT * FROM release_draft WHERE id = ?", arguments: [id]) else { return nil }
        let spec: Data = r["spec"]
        let history = try Row.fetchAll(db, sql: "SELECT * FROM release_status WHERE draft_id = ? ORDER BY id", arguments: [id]).map(Self.change)
        return ReleaseDraftRow(id: id, createdAt: r["created_at"], requester: r["requester"], title: r["title"], spec: Array(spec), history: history)
    }

    /// The status history of a release, oldest first. Releases stored before statuses existed
    /// have none and are published.
    public func statusHistory(releaseID: Int64) throws -> [ReleaseStatusChange] {
        try database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM release_status WHERE release_id = ? ORDER BY id", arguments: [releaseID]).map(Self.change)
        }
    }

    /// The current status of every release (published when it has no status row).
    public func statuses() throws -> [Int64: ReleaseStatus] {
        try database.reader.read { db in
            var out: [Int64: ReleaseStatus] = [:]
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM release") { out[id] = .published }
            for r in try Row.fetchAll(db, sql: "SELECT release_id, status FROM release_status WHERE release_id IS NOT NULL ORDER BY id") {
                out[r["release_id"]] = ReleaseStatus(rawValue: r["status"]) ?? .withdrawn
            }
            return out
        }
    }

    /// The current status of one release (nil: no such release).
    public func status(releaseID: Int64) throws -> ReleaseStatus? {
        try database.reader.read { db in try Self.status(db, releaseID: releaseID) }
    }

    static func status(_ db: Database, releaseID: Int64) throws -> ReleaseStatus? {
        guard try Int64.fetchOne(db, sql: "SELECT id FROM release WHERE id = ?", arguments: [releaseID]) != nil else { return nil }
        let s = try String.fetchOne(db, sql: "SELECT status FROM release_status WHERE release_id = ? ORDER BY id DESC LIMIT 1", arguments: [releaseID])
        return s.flatMap(ReleaseStatus.init(rawValue:)) ?? .published
    }

    /// Withdraws a published release: a new status row; the release, its spend and its pins stay.
    public func withdraw(releaseID: Int64, by who: String, reason: String, at date: Date) throws {
        try database.writer.write { db in
            guard let current = try Self.status(db, releaseID: releaseID) else { throw ReleaseStatusError.notFound("no release \(releaseID)") }
            guard current == .published else { throw ReleaseStatusError.invalidTransition("release \(releaseID) is already withdrawn") }
            try db.execute(
                sql: "INSERT INTO release_status (release_id, status, changed_at, changed_by, reason) VALUES (?, 'withdrawn', ?, ?, ?)",
                arguments: [releaseID, date, who, reason])
        }
    }

    /// Withdraws a draft that was not published (nothing was ever spent for it).
    public func withdrawDraft(id: Int64, by who: String, reason: String, at date: Date) throws {
        try database.writer.write { db in
            guard let d = try Self.draft(db, id: id) else { throw ReleaseStatusError.notFound("no draft \(id)") }
            guard d.status == .draft else {
                throw ReleaseStatusError.invalidTransition(
                    d.status == .published ? "draft \(id) was published as release \(d.releaseID ?? 0); withdraw the release instead" : "draft \(id) is already withdrawn")
            }
            try db.execute(
                sql: "INSERT INTO release_status (draft_id, status, changed_at, changed_by, reason) VALUES (?, 'withdrawn', ?, ?, ?)",
                arguments: [id, date, who, reason])
        }
    }

    static func change(_ r: Row) -> ReleaseStatusChange {
        ReleaseStatusChange(
            status: ReleaseStatus(rawValue: r["status"]) ?? .withdrawn, changedAt: r["changed_at"], changedBy: r["changed_by"],
            reason: r["reason"], releaseID: r["release_id"], draftID: r["draft_id"])
    }
}

extension HeldWriter {
    /// The current status of a draft (nil: no such draft), read on the held writer so that two
    /// publications of one draft cannot both pass.
    public func draftStatus(_ id: Int64) throws -> ReleaseStatus? {
        try ReleaseStore.draft(db, id: id)?.status
    }
}
