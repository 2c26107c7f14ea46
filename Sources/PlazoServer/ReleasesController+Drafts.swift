import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoIngest
import PlazoReleases
import PlazoStore

/// Dry runs, drafts, publication and withdrawal (steward only; `docs/api-guide.md`).
extension ReleasesController {
    /// The live case state of this service: its index behind its lock, with the projection cache.
    var liveState: LiveCaseState {
        let ingest = self.ingest
        return LiveCaseState(projections: projections) { body in ingest.withMutableCaseIndex(body) }
    }

    /// `POST /v1/releases?dry_run=true` (200, the plan; nothing read from the cases, nothing
    /// spent) or a body with `"draft": true` (201, a stored draft with its plan; nothing spent).
    func planOrDraft(body: [UInt8], requester: String, dryRun: Bool, context: PlazoRequestContext) -> Response {
        do throws(ReleaseError) {
            let spec = try ReleaseSpec.decode(json: body)
            if dryRun {
                return Self.encoded(.ok, try cache.engine.dryRun(spec: spec))
            }
            let draft = try cache.engine.createDraft(spec: spec, requester: requester)
            context.logger.info("release draft created", metadata: ["draft.id": "\(draft.row.id)"])
            return jsonResponse(.created, Self.draftJSON(draft), headers: [.location: "/v1/release-drafts/\(draft.row.id)"])
        } catch {
            return releaseError(error)
        }
    }

    /// `GET /v1/release-drafts`: every draft with its status and plan.
    @Sendable func listDrafts(request: Request, context: PlazoRequestContext) async throws -> Response {
        do { return jsonResponse(.ok, ["drafts": try cache.engine.drafts().map(Self.draftJSON)]) } catch { return releaseError(error) }
    }

    /// `GET /v1/release-drafts/{id}`.
    @Sendable func showDraft(request: Request, context: PlazoRequestContext) async throws -> Response {
        guard let id = Int64(pathParameter(context, "id")), id > 0 else {
            return errorResponse(.badRequest, code: "bad_draft_id", message: "a draft id is a positive integer")
        }
        do {
            guard let d = try cache.engine.draft(id: id) else { return errorResponse(.notFound, code: "draft_not_found", message: "no draft \(id)") }
            return jsonResponse(.ok, Self.draftJSON(d))
        } catch { return releaseError(error) }
    }

    /// `POST /v1/release-drafts/{id}/publish`: computes, charges, stores and pins the release now.
    @Sendable func publishDraft(request: Request, context: PlazoRequestContext) async throws -> Response {
        guard let id = Int64(pathParameter(context, "id")), id > 0 else {
            return errorResponse(.badRequest, code: "bad_draft_id", message: "a draft id is a positive integer")
        }
        let requester = context.token?.name ?? "steward"
        let (engine, live) = (cache.engine, liveState)
        do {
            guard try engine.draft(id: id) != nil else { return errorResponse(.notFound, code: "draft_not_found", message: "no draft \(id)") }
        } catch { return releaseError(error) }
        let outcome: Result<Release, ReleaseError> = await offload {
            do throws(ReleaseError) { return .success(try engine.publishDraft(id: id, requester: requester, live: live)) } catch { return .failure(error) }
        }
        switch outcome {
        case let .failure(error):
            if case .invalidSpec = error { return errorResponse(.conflict, code: "draft_not_publishable", message: error.description) }
            return releaseError(error)
        case let .success(release):
            context.logger.info("release draft published", metadata: ["draft.id": "\(id)", "release.id": "\(release.metadata.id)"])
            return Response(
                status: .created,
                headers: [.contentType: "application/json", .location: "/v1/releases/\(release.metadata.id)"],
                body: .init(byteBuffer: ByteBuffer(bytes: ReleaseExport.json(release))))
        }
    }

    /// `POST /v1/releases/{id}/withdraw` with `{"reason": "..."}`: hides a published release from
    /// researchers and dashboards. Its spend and its pins stay.
    @Sendable func withdraw(request: Request, context: PlazoRequestContext) async throws -> Response {
        guard let id = Int64(pathParameter(context, "id")), id > 0 else {
            return errorResponse(.badRequest, code: "bad_release_id", message: "a release id is a positive integer")
        }
        return await statusChange(request, context, kind: "release") { engine, who, reason throws(ReleaseError) in
            guard try engine.status(releaseID: id) != nil else { throw .notFound(id) }
            try engine.withdraw(releaseID: id, by: who, reason: reason)
        }
    }

    /// `POST /v1/release-drafts/{id}/withdraw` with `{"reason": "..."}`.
    @Sendable func withdrawDraft(request: Request, context: PlazoRequestContext) async throws -> Response {
        guard let id = Int64(pathParameter(context, "id")), id > 0 else {
            return errorResponse(.badRequest, code: "bad_draft_id", message: "a draft id is a positive integer")
        }
        return await statusChange(request, context, kind: "draft") { engine, who, reason throws(ReleaseError) in
            guard try engine.draft(id: id) != nil else { throw .invalidQuery("no draft \(id)") }
            try engine.withdrawDraft(id: id, by: who, reason: reason)
        }
    }

    private func statusChange(
        _ request: Request, _ context: PlazoRequestContext, kind: String,
        _ body: (ReleaseEngine, String, String) throws(ReleaseError) -> Void
    ) async -> Response {
        let bytes: ByteBuffer
        do { bytes = try await request.body.collect(upTo: maxJSONBodySize) } catch {
            return errorResponse(.contentTooLarge, code: "too_large", message: "the body is larger than \(maxJSONBodySize) bytes")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any],
            let reason = (object["reason"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty
        else {
            return errorResponse(.badRequest, code: "reason_required", message: "give the reason for the withdrawal: {\"reason\": \"...\"}")
        }
        do {
            try body(cache.engine, context.token?.name ?? "steward", reason)
            return jsonResponse(.ok, ["status": "withdrawn", "reason": reason])
        } catch {
            switch error {
            case let .invalidQuery(s): return errorResponse(.notFound, code: "\(kind)_not_found", message: s)
            case let .invalidSpec(s): return errorResponse(.conflict, code: "invalid_transition", message: s)
            default: return releaseError(error)
            }
        }
    }

    static func draftJSON(_ d: ReleaseDraft) -> [String: Any] {
        var out: [String: Any] = [
            "id": Int(d.row.id), "title": d.row.title, "requester": d.row.requester, "created_at": timestamp(d.row.createdAt),
            "status": d.row.status.rawValue,
            "history": d.row.history.map { h -> [String: Any] in
                var e: [String: Any] = ["status": h.status.rawValue, "changed_at": timestamp(h.changedAt), "changed_by": h.changedBy]
                if let r = h.reason { e["reason"] = r }
                if let r = h.releaseID { e["release_id"] = Int(r) }
                return e
            },
            "spec": (try? JSONSerialization.jsonObject(with: Data(d.row.spec))) ?? [:],
            "plan": (try? JSONSerialization.jsonObject(with: ReleaseDryRun.snakeCaseJSON(d.plan))) ?? [:],
        ]
        if let r = d.row.releaseID { out["release_id"] = Int(r) }
        return out
    }

    static func encoded(_ status: HTTPResponse.Status, _ plan: ReleaseDryRun) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: ReleaseDryRun.snakeCaseJSON(plan))))
    }
}
