import Foundation
import PlazoCases
import PlazoPrivacy
import PlazoStore

/// A draft release: a spec a steward plans to publish, with its dry run.
///
/// A draft holds **no numbers**: nothing is computed, no noise is drawn and nothing is spent until
/// it is published (`docs/privacy-model.md`, "Drafts, publication and withdrawal"). Publishing
/// computes the release over the case state *at publication*, charges the ledger and pins, in one
/// step, exactly like a release created directly. So "a dry run or a draft never spends" holds
/// literally, and no noisy figure is ever seen by anyone without having been charged.
public struct ReleaseDraft: Sendable {
    /// The stored draft (id, requester, status history).
    public var row: ReleaseDraftRow
    /// The spec.
    public var spec: ReleaseSpec
    /// Its cost and accuracy as planned now (from the ledger and the mechanisms only).
    public var plan: ReleaseDryRun
}

extension ReleaseEngine {
    /// Stores `spec` as a draft after validating it. Reads the ledger only; spends nothing.
    public func createDraft(spec: ReleaseSpec, requester: String) async throws(ReleaseError) -> ReleaseDraft {
        let plan = try await dryRun(spec: spec)
        let who = requester.trimmingCharacters(in: .whitespacesAndNewlines)
        if who.isEmpty { throw .invalidSpec("requester must not be empty") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let bytes = Array(try encoder.encode(spec))
            let row = try await ReleaseStore(database).createDraft(
                requester: who, title: spec.title, spec: bytes, at: Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down)))
            return ReleaseDraft(row: row, spec: spec, plan: plan)
        } catch { throw .store("\(error)") }
    }

    /// Every draft with its current plan, oldest first.
    public func drafts() async throws(ReleaseError) -> [ReleaseDraft] {
        let rows: [ReleaseDraftRow]
        do { rows = try await ReleaseStore(database).drafts() } catch { throw .store("\(error)") }
        var out: [ReleaseDraft] = []
        for row in rows { await out.append(try draft(row)) }
        return out
    }

    /// One draft (``ReleaseError/invalidQuery(_:)`` naming it when there is none).
    public func draft(id: Int64) async throws(ReleaseError) -> ReleaseDraft? {
        let row: ReleaseDraftRow?
        do { row = try await ReleaseStore(database).draft(id: id) } catch { throw .store("\(error)") }
        guard let row else { return nil }
        return try await draft(row)
    }

    private func draft(_ row: ReleaseDraftRow) async throws(ReleaseError) -> ReleaseDraft {
        let spec = try ReleaseSpec.decode(json: row.spec)
        return ReleaseDraft(row: row, spec: spec, plan: try await dryRun(spec: spec))
    }

    /// Publishes draft `id`: computes, charges, stores and pins the release now (as
    /// ``create(spec:requester:live:draftID:)``). Refused when the draft is not in status draft.
    ///
    /// - Throws: ``ReleaseError/draftNotFound(_:)``; ``ReleaseError/draftNotPublishable(_:)`` when
    ///   the draft is not in status draft or its spec is refused now (a stream's schedule, say);
    ///   otherwise what ``create(spec:requester:live:draftID:)`` throws.
    public func publishDraft(id: Int64, requester: String, live: any LiveCases) async throws(ReleaseError) -> Release {
        guard let d = try await draft(id: id) else { throw .draftNotFound(id) }
        do { return try await create(spec: d.spec, requester: requester, live: live, draftID: id) } catch {
            if case let .invalidSpec(why) = error { throw .draftNotPublishable(why) }
            throw error
        }
    }

    /// Withdraws a published release. It keeps its spend and its pins (the noise was drawn and
    /// seen); researchers and dashboards no longer see it.
    /// Throws ``ReleaseError/notFound(_:)`` or ``ReleaseError/invalidTransition(_:)``.
    public func withdraw(releaseID: Int64, by who: String, reason: String) async throws(ReleaseError) {
        try Self.requireReason(who: who, reason: reason)
        try await status(missing: .notFound(releaseID)) { store, now in try await store.withdraw(releaseID: releaseID, by: who, reason: reason, at: now) }
    }

    /// Withdraws a draft that was not published (nothing was spent for it). Throws
    /// ``ReleaseError/draftNotFound(_:)`` or ``ReleaseError/invalidTransition(_:)``.
    public func withdrawDraft(id: Int64, by who: String, reason: String) async throws(ReleaseError) {
        try Self.requireReason(who: who, reason: reason)
        try await status(missing: .draftNotFound(id)) { store, now in try await store.withdrawDraft(id: id, by: who, reason: reason, at: now) }
    }

    static func requireReason(who: String, reason: String) throws(ReleaseError) {
        if who.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .invalidQuery("who withdraws must be named") }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .invalidQuery("a withdrawal needs a reason") }
    }

    /// Runs a status change; the store's refusals become precise release errors (`missing` when
    /// there is no such release or draft).
    private func status(missing: ReleaseError, _ body: (ReleaseStore, Date) async throws -> Void) async throws(ReleaseError) {
        do { try await body(ReleaseStore(database), Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down))) }
        catch let e as ReleaseStatusError {
            switch e {
            case .notFound: throw missing
            case let .invalidTransition(s): throw .invalidTransition(s)
            }
        } catch { throw .store("\(error)") }
    }

    /// The published releases' rows, oldest first: what researchers and dashboards see.
    public func publishedList() async throws(ReleaseError) -> [ReleaseRow] {
        let statuses: [Int64: ReleaseStatus]
        do { statuses = try await ReleaseStore(database).statuses() } catch { throw .store("\(error)") }
        return try await list().filter { statuses[$0.id] == .published }
    }

    /// The published releases' rows, oldest first, and the ids of the public releases: what a
    /// reader may choose from, in one read of the store (``ReleaseStore/catalogue()``).
    public func publishedCatalogue() async throws(ReleaseError) -> (published: [ReleaseRow], publicIDs: Set<Int64>) {
        do {
            let (rows, statuses, open) = try await ReleaseStore(database).catalogue()
            return (rows.filter { statuses[$0.id] == .published }, open)
        } catch { throw .store("\(error)") }
    }

    /// The current status of a release (nil: no such release).
    public func status(releaseID: Int64) async throws(ReleaseError) -> ReleaseStatus? {
        do { return try await ReleaseStore(database).status(releaseID: releaseID) } catch { throw .store("\(error)") }
    }

    /// Opens a published release to everyone (``ReleaseStore/makePublic(releaseID:by:at:)``):
    /// its dashboards and Data Package become readable without a token. One-way.
    public func makePublic(releaseID: Int64, by who: String) async throws(ReleaseError) {
        try await status(missing: .notFound(releaseID)) { store, now in try await store.makePublic(releaseID: releaseID, by: who, at: now) }
    }

    /// The ids of the public releases (published or withdrawn; see ``status(releaseID:)``).
    public func publicReleaseIDs() async throws(ReleaseError) -> Set<Int64> {
        do { return try await ReleaseStore(database).publicReleaseIDs() } catch { throw .store("\(error)") }
    }
}
