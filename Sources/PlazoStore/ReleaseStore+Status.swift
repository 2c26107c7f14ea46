import Foundation

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
    public func createDraft(requester: String, title: String, spec: [UInt8], at date: Date) async throws -> ReleaseDraftRow {
        try await database.write { db in
            let id = try await db.insert("INSERT INTO release_draft (created_at, requester, title, spec) VALUES (?, ?, ?, ?)", date, requester, title, spec)
            try await db.execute("INSERT INTO release_status (draft_id, status, changed_at, changed_by) VALUES (?, 'draft', ?, ?)", id, date, requester)
            return try await Self.draft(db, id: id)!
        }
    }

    /// Every draft, oldest first.
    public func drafts() async throws -> [ReleaseDraftRow] {
        try await database.read { db in
            var drafts: [ReleaseDraftRow] = []
            for id in try await db.column("SELECT id FROM release_draft ORDER BY id") as [Int64] {
                if let draft = try await Self.draft(db, id: id) { drafts.append(draft) }
            }
            return drafts
        }
    }

    /// One draft, or nil.
    public func draft(id: Int64) async throws -> ReleaseDraftRow? {
        try await database.read { db in try await Self.draft(db, id: id) }
    }

    static func draft(_ db: any SQLConnection, id: Int64) async throws -> ReleaseDraftRow? {
        guard let r = try await db.row("SELECT * FROM release_draft WHERE id = ?", id) else { return nil }
        let history = try await db.rows("SELECT * FROM release_status WHERE draft_id = ? ORDER BY id", id).map(Self.change)
        return ReleaseDraftRow(
            id: id, createdAt: try r["created_at"], requester: try r["requester"], title: try r["title"], spec: try r["spec"],
            history: history)
    }

    /// The status history of a release, oldest first. Releases stored before statuses existed
    /// have none and are published.
    public func statusHistory(releaseID: Int64) async throws -> [ReleaseStatusChange] {
        try await database.read { db in
            try await db.rows("SELECT * FROM release_status WHERE release_id = ? ORDER BY id", releaseID).map(Self.change)
        }
    }

    /// The current status of every release (published when it has no status row).
    public func statuses() async throws -> [Int64: ReleaseStatus] {
        try await database.read { db in try await Self.statuses(db) }
    }

    static func statuses(_ db: any SQLConnection) async throws -> [Int64: ReleaseStatus] {
        var out: [Int64: ReleaseStatus] = [:]
        for id in try await db.column("SELECT id FROM release") as [Int64] { out[id] = .published }
        for r in try await db.rows("SELECT release_id, status FROM release_status WHERE release_id IS NOT NULL ORDER BY id") {
            out[try r["release_id"]] = ReleaseStatus(rawValue: try r["status"]) ?? .withdrawn
        }
        return out
    }

    /// The current status of one release (nil: no such release).
    public func status(releaseID: Int64) async throws -> ReleaseStatus? {
        try await database.read { db in try await Self.status(db, releaseID: releaseID) }
    }

    static func status(_ db: any SQLConnection, releaseID: Int64) async throws -> ReleaseStatus? {
        guard try await db.scalar("SELECT id FROM release WHERE id = ?", releaseID) as Int64? != nil else { return nil }
        let s: String? = try await db.scalar("SELECT status FROM release_status WHERE release_id = ? ORDER BY id DESC LIMIT 1", releaseID)
        return s.flatMap(ReleaseStatus.init(rawValue:)) ?? .published
    }

    /// Withdraws a published release: a new status row; the release, its spend and its pins stay.
    public func withdraw(releaseID: Int64, by who: String, reason: String, at date: Date) async throws {
        try await database.write { db in
            guard let current = try await Self.status(db, releaseID: releaseID) else { throw ReleaseStatusError.notFound("no release \(releaseID)") }
            guard current == .published else { throw ReleaseStatusError.invalidTransition("release \(releaseID) is already withdrawn") }
            try await db.execute(
                "INSERT INTO release_status (release_id, status, changed_at, changed_by, reason) VALUES (?, 'withdrawn', ?, ?, ?)",
                releaseID, date, who, reason)
        }
    }

    /// Withdraws a draft that was not published (nothing was ever spent for it).
    public func withdrawDraft(id: Int64, by who: String, reason: String, at date: Date) async throws {
        try await database.write { db in
            guard let d = try await Self.draft(db, id: id) else { throw ReleaseStatusError.notFound("no draft \(id)") }
            guard d.status == .draft else {
                throw ReleaseStatusError.invalidTransition(
                    d.status == .published ? "draft \(id) was published as release \(d.releaseID ?? 0); withdraw the release instead" : "draft \(id) is already withdrawn")
            }
            try await db.execute(
                "INSERT INTO release_status (draft_id, status, changed_at, changed_by, reason) VALUES (?, 'withdrawn', ?, ?, ?)",
                id, date, who, reason)
        }
    }

    static func change(_ r: SQLRow) throws -> ReleaseStatusChange {
        ReleaseStatusChange(
            status: ReleaseStatus(rawValue: try r["status"]) ?? .withdrawn, changedAt: try r["changed_at"], changedBy: try r["changed_by"],
            reason: try r["reason"], releaseID: try r["release_id"], draftID: try r["draft_id"])
    }
}

extension HeldWriter {
    /// The current status of a draft (nil: no such draft), read on the held writer so that two
    /// publications of one draft cannot both pass.
    public func draftStatus(_ id: Int64) async throws -> ReleaseStatus? {
        try await ReleaseStore.draft(db, id: id)?.status
    }
}
