import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoApp
import PlazoReleases
import PlazoStore

/// Dry runs, drafts, publication and withdrawal (steward only; `docs/api-guide.md`).
extension ReleasesController {
    /// `POST /v1/releases?dry_run=true` (200, the plan; nothing read from the cases, nothing
    /// spent) or a body with `"draft": true` (201, a stored draft with its plan; nothing spent).
    func planOrDraft(body: [UInt8], requester: String, dryRun: Bool, context: PlazoRequestContext) async throws(APIError) -> Response {
        let spec: ReleaseSpec
        do { spec = try ReleaseSpec.decode(json: body) } catch { throw error.apiError }
        let engine = cache.engine
        if dryRun {
            let plan: ReleaseDryRun
            do { plan = try await engine.dryRun(spec: spec) } catch { throw error.apiError }
            return try jsonResponse(.ok, plan, encoder: ReleaseDryRun.jsonEncoder())
        }
        let draft: ReleaseDraft
        do {
            draft = try await engine.createDraft(spec: spec, requester: requester)
        } catch { throw error.apiError }
        context.logger.info("release draft created", metadata: ["draft.id": "\(draft.row.id)"])
        return try Self.draftResponse(.created, draft, headers: [.location: "/v1/release-drafts/\(draft.row.id)"])
    }

    /// A draft as JSON (snake_case, with its spec and plan).
    static func draftResponse(_ status: HTTPResponse.Status, _ draft: ReleaseDraft, headers: HTTPFields = [:]) throws(APIError) -> Response {
        try jsonResponse(status, DraftJSON(draft), headers: headers, encoder: ReleaseDryRun.jsonEncoder(pretty: false))
    }

    /// `GET /v1/release-drafts`: every draft with its status and plan.
    @Sendable func listDrafts(request: Request, context: PlazoRequestContext) async throws -> Response {
        let drafts: [ReleaseDraft]
        let engine = cache.engine
        do { drafts = try await engine.drafts() } catch { throw error.apiError }
        return try jsonResponse(.ok, DraftList(drafts: drafts.map(DraftJSON.init)), encoder: ReleaseDryRun.jsonEncoder(pretty: false))
    }

    /// The draft id of the path, or 400 `bad_draft_id`.
    func draftID(_ context: PlazoRequestContext) throws(APIError) -> Int64 {
        guard let id = Int64((try? context.parameters.require("id")) ?? ""), id > 0 else {
            throw APIError(.badRequest, "bad_draft_id", "a draft id is a positive integer")
        }
        return id
    }

    /// `GET /v1/release-drafts/{id}`.
    @Sendable func showDraft(request: Request, context: PlazoRequestContext) async throws -> Response {
        let id = try draftID(context)
        let draft: ReleaseDraft?
        let engine = cache.engine
        do { draft = try await engine.draft(id: id) } catch { throw error.apiError }
        guard let draft else { throw APIError(.notFound, "draft_not_found", "no draft \(id)") }
        return try Self.draftResponse(.ok, draft)
    }

    /// `POST /v1/release-drafts/{id}/publish`: computes, charges, stores and pins the release now.
    @Sendable func publishDraft(request: Request, context: PlazoRequestContext) async throws -> Response {
        let id = try draftID(context)
        let requester = context.token?.name ?? "steward"
        let (engine, desk) = (cache.engine, self.desk)
        let existing: ReleaseDraft?
        do { existing = try await engine.draft(id: id) } catch { throw error.apiError }
        guard existing != nil else { throw APIError(.notFound, "draft_not_found", "no draft \(id)") }
        let outcome: Result<Release, ReleaseError>
        do throws(ReleaseError) { outcome = .success(try await desk.publishDraft(id: id, requester: requester)) } catch { outcome = .failure(error) }
        switch outcome {
        case let .failure(error):
            throw error.apiError
        case let .success(release):
            context.logger.info("release draft published", metadata: ["draft.id": "\(id)", "release.id": "\(release.metadata.id)"])
            return try Self.releaseResponse(.created, release, headers: [.location: "/v1/releases/\(release.metadata.id)"])
        }
    }

    /// `POST /v1/releases/{id}/withdraw` with `{"reason": "..."}`: hides a published release from
    /// researchers and dashboards. Its spend and its pins stay.
    @Sendable func withdraw(request: Request, context: PlazoRequestContext) async throws -> WithdrawalResult {
        guard let id = Int64((try? context.parameters.require("id")) ?? ""), id > 0 else {
            throw APIError(.badRequest, "bad_release_id", "a release id is a positive integer")
        }
        return try await statusChange(request, context) { engine, who, reason throws(ReleaseError) in
            try await engine.withdraw(releaseID: id, by: who, reason: reason)
        }
    }

    /// `POST /v1/release-drafts/{id}/withdraw` with `{"reason": "..."}`.
    @Sendable func withdrawDraft(request: Request, context: PlazoRequestContext) async throws -> WithdrawalResult {
        let id = try draftID(context)
        return try await statusChange(request, context) { engine, who, reason throws(ReleaseError) in
            try await engine.withdrawDraft(id: id, by: who, reason: reason)
        }
    }

    /// The body of a withdrawal.
    struct WithdrawalRequest: Decodable { var reason: String? }

    private func statusChange(
        _ request: Request, _ context: PlazoRequestContext,
        _ body: @escaping @Sendable (ReleaseEngine, String, String) async throws(ReleaseError) -> Void
    ) async throws(APIError) -> WithdrawalResult {
        let bytes: ByteBuffer
        do { bytes = try await request.body.collect(upTo: maxJSONBodySize) } catch {
            throw APIError.tooLarge(limit: maxJSONBodySize)
        }
        guard let form = try? JSONDecoder().decode(WithdrawalRequest.self, from: Data(bytes.readableBytesView)),
            let reason = form.reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty
        else {
            throw APIError(.badRequest, "reason_required", "give the reason for the withdrawal: {\"reason\": \"...\"}")
        }
        let (engine, who) = (cache.engine, context.token?.name ?? "steward")
        do { try await body(engine, who, reason) } catch { throw error.apiError }
        return WithdrawalResult(reason: reason)
    }
}
