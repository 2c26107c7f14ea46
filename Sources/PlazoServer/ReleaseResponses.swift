import Foundation
import Hummingbird
import PlazoReleases
import PlazoStore

// The JSON bodies of the release endpoints (`specs/openapi.yaml`: `ReleaseSummary`,
// `ReleaseDraft`, `WithdrawalResult`), snake_case by the answer encoder's strategy
// (``PlazoResponseEncoder``). A release itself is `ReleaseExport.json` (PlazoReleases), the bytes of
// its Data Package view; a plan and a draft are `ReleaseDryRun` with
// ``ReleaseDryRun/jsonEncoder(pretty:)``, whose conversion also reaches the spec inside.

/// `GET /v1/releases`.
struct ReleaseList: ResponseEncodable {
    struct Summary: Encodable {
        struct Links: Encodable {
            var `self`: String
            var datapackage: String
        }
        var id: Int64
        var title: String
        var createdAt: String
        var cutoff: String
        var cohorts: [String]
        var totalRho: String
        var codeVersion: String
        var links: Links

        init(_ r: ReleaseRow) {
            id = r.id
            title = r.title
            createdAt = timestamp(r.createdAt)
            cutoff = r.cutoff
            cohorts = r.cohorts
            totalRho = r.totalRho
            codeVersion = r.codeVersion
            links = Links(self: "/v1/releases/\(r.id)", datapackage: "/v1/releases/\(r.id)/datapackage")
        }
    }

    var releases: [Summary]
}

/// A draft with its spec and its plan (`ReleaseDraft`). Encoded with the plan's encoder
/// (snake_case conversion), so the spec and the plan read in snake_case too.
struct DraftJSON: Encodable {
    struct Change: Encodable {
        var status: String
        var changedAt: String
        var changedBy: String
        var reason: String?
        var releaseId: Int64?
    }

    var id: Int64
    var title: String
    var requester: String
    var createdAt: String
    var status: String
    var history: [Change]
    var spec: ReleaseSpec
    var plan: ReleaseDryRun
    var releaseId: Int64?

    init(_ d: ReleaseDraft) {
        id = d.row.id
        title = d.row.title
        requester = d.row.requester
        createdAt = timestamp(d.row.createdAt)
        status = d.row.status.rawValue
        history = d.row.history.map {
            Change(status: $0.status.rawValue, changedAt: timestamp($0.changedAt), changedBy: $0.changedBy, reason: $0.reason, releaseId: $0.releaseID)
        }
        spec = d.spec
        plan = d.plan
        releaseId = d.row.releaseID
    }
}

/// `GET /v1/release-drafts`.
struct DraftList: Encodable { var drafts: [DraftJSON] }

/// The answer to a withdrawal (`WithdrawalResult`).
struct WithdrawalResult: ResponseEncodable {
    var status = "withdrawn"
    var reason: String
}

/// `POST /v1/releases/{id}/public`.
struct ReleasePublicResponse: ResponseEncodable {
    var releaseID: Int64
    var isPublic: Bool
    /// `public` is spelt: the key strategy would give `is_public`.
    enum CodingKeys: String, CodingKey { case releaseID, isPublic = "public" }
}
