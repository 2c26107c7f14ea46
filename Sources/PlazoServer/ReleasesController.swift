import Foundation
import Hummingbird
import PlazoApp
import Logging
import NIOCore
import PlazoIngest
import PlazoReleases
import PlazoStore
import Synchronization

/// Stored releases, decoded once: a release is immutable, so a decoded copy never goes stale.
final class ReleaseCache: Sendable {
    let engine: ReleaseEngine
    private let decoded = Mutex<[Int64: Release]>([:])

    init(engine: ReleaseEngine) { self.engine = engine }

    /// The release `id` (``ReleaseError/notFound(_:)`` when there is none).
    func release(_ id: Int64) async throws(ReleaseError) -> Release {
        if let hit = decoded.withLock({ $0[id] }) { return hit }
        let release = try await engine.release(id: id)
        decoded.withLock { $0[id] = release }
        return release
    }

    /// Every published release's metadata row, oldest first (drafts are not releases; withdrawn
    /// releases are hidden from researchers and dashboards).
    func list() async throws(ReleaseError) -> [ReleaseRow] { try await engine.publishedList() }

    /// The ids of the public releases (read each time: a steward may open one from the CLI).
    func publicIDs() async throws(ReleaseError) -> Set<Int64> { try await engine.publicReleaseIDs() }

    /// The published releases `access` may read, oldest first; and whether any release is
    /// published at all, and which are public. One store read.
    func readable(_ access: ReadAccess) async throws(ReleaseError) -> (rows: [ReleaseRow], anyPublished: Bool, publicIDs: Set<Int64>) {
        let (published, open) = try await engine.publishedCatalogue()
        let rows = access == .publicOnly ? published.filter { open.contains($0.id) } : published
        return (rows, !published.isEmpty, open)
    }

    /// The release `id` if it is published (``ReleaseError/notFound(_:)`` otherwise: a withdrawn
    /// release is not shown to readers, and says nothing more than a missing one).
    func publishedRelease(_ id: Int64) async throws(ReleaseError) -> Release {
        guard try await engine.status(releaseID: id) == .published else { throw .notFound(id) }
        return try await release(id)
    }
}

/// The release endpoints: stewards create (`POST /v1/releases`), researchers read
/// (`GET /v1/releases`, `/v1/releases/{id}`, `/v1/releases/{id}/tables/{file}.csv`,
/// `/v1/releases/{id}/datapackage`). Everything a researcher receives was computed from noisy
/// counts when the release was created; reading never touches case data and never re-noises.
struct ReleasesController: Sendable {
    /// The release path over the service's live case state (``PlazoService/releases``).
    let desk: ReleaseDesk
    let cache: ReleaseCache

    /// `POST /v1/releases` (mounted behind the steward role).
    func addStewardRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.post("releases", use: create)
        group.post("release-plans", use: plan)
        group.post("releases/{id}/withdraw", use: withdraw)
        group.post("releases/{id}/public", use: makePublic)
        group.get("release-drafts", use: listDrafts)
        group.get("release-drafts/{id}", use: showDraft)
        group.post("release-drafts/{id}/publish", use: publishDraft)
        group.post("release-drafts/{id}/withdraw", use: withdrawDraft)
    }

    /// `POST /v1/releases/{id}/public`: opens a published release to everyone (one-way; a
    /// mistake is undone by withdrawing it). Idempotent.
    @Sendable func makePublic(request: Request, context: PlazoRequestContext) async throws -> ReleasePublicResponse {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else {
            throw APIError(.badRequest, "bad_release_id", "a release id is a positive integer")
        }
        let (engine, who) = (cache.engine, context.token?.name ?? "steward")
        do { try await engine.makePublic(releaseID: id, by: who) } catch { throw error.apiError }
        context.logger.info("release made public", metadata: ["release.id": "\(id)"])
        return ReleasePublicResponse(releaseID: id, isPublic: true)
    }

    /// The read routes (mounted behind ``PublicOrRole`` with the researcher role).
    func addResearcherRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.get("releases", use: list)
        group.get("releases/{id}", use: show)
        group.get("releases/{id}/tables/{file}", use: table)
        group.get("releases/{id}/datapackage", use: dataPackage)
    }

    // MARK: - Steward

    /// Creates a release from a spec (`docs/examples/quarterly-release.json`), over the service's
    /// live case state as of the spec's cutoff. Refused whole (409 `budget_exceeded`, ledger
    /// unchanged) when any cohort lacks the budget; 422 `invalid_spec` for a spec that does not
    /// validate.
    @Sendable func create(request: Request, context: PlazoRequestContext) async throws -> Response {
        let bytes: ByteBuffer
        do { bytes = try await request.body.collect(upTo: maxJSONBodySize) } catch {
            throw APIError.tooLarge(limit: maxJSONBodySize)
        }
        let body = Array(bytes.readableBytesView)
        let requester = context.token?.name ?? "steward"
        // Strict flags: a misspelt value must not turn a dry run or a draft into a real, charged release.
        let dryRunText = request.uri.queryParameters["dry_run"].map(String.init)
        guard dryRunText == nil || ["true", "false", "1", "0"].contains(dryRunText!) else {
            throw APIError(.badRequest, "bad_parameter", "dry_run must be true or false; nothing was computed or spent")
        }
        let dryRun = dryRunText == "true" || dryRunText == "1"
        let asDraft = try DraftFlag.read(body)
        if dryRun || asDraft {
            return try await planOrDraft(body: body, requester: requester, dryRun: dryRun, context: context)
        }
        let desk = self.desk
        // The projection and the noise run while the release holds the store's writer: on SQLite
        // on GRDB's writer queue, on PostgreSQL on this task (seconds of CPU at 10 million cases).
        let outcome: Result<Release, ReleaseError>
        do throws(ReleaseError) {
            let spec = try ReleaseSpec.decode(json: body)
            outcome = .success(try await desk.create(spec: spec, requester: requester))
        } catch {
            outcome = .failure(error)
        }
        let release: Release
        switch outcome {
        case let .success(r): release = r
        case let .failure(error):
            context.logger.notice("release refused", metadata: ["reason": "\(error.code)"])
            throw error.apiError
        }
        context.logger.info(
            "release created", metadata: ["release.id": "\(release.metadata.id)", "release.cohorts": "\(release.metadata.cohorts.count)"]
        )
        return try Self.releaseResponse(.created, release, headers: [.location: "/v1/releases/\(release.metadata.id)"])
    }

    /// The `draft` member of a release request body: absent or a boolean. A body that is not a
    /// JSON object is 400 `bad_json`; a `draft` that is not a boolean 422 `invalid_spec`.
    struct DraftFlag: Decodable {
        var draft: Bool?

        static func read(_ body: [UInt8]) throws(APIError) -> Bool {
            do { return try JSONDecoder().decode(DraftFlag.self, from: Data(body)).draft ?? false } catch let DecodingError.typeMismatch(_, context)
                where !context.codingPath.isEmpty
            {
                throw APIError(.unprocessableContent, "invalid_spec", "\"draft\" must be true or false; nothing was computed or spent")
            } catch {
                throw APIError(.badRequest, "bad_json", "the body must be a release spec (a JSON object)")
            }
        }
    }

    /// A release as its JSON view (`ReleaseExport.json`), or a 500 naming why it cannot be encoded.
    static func releaseResponse(_ status: HTTPResponse.Status, _ release: Release, headers: HTTPFields = [:]) throws(APIError) -> Response {
        let bytes: [UInt8]
        do { bytes = try ReleaseExport.json(release) } catch {
            throw APIError.internalError(cause: "encoding release \(release.metadata.id) failed: \(error)")
        }
        return jsonResponse(status, bytes: bytes, headers: headers)
    }

    // MARK: - Researcher

    /// The published releases (metadata only), oldest first.
    @Sendable func list(request: Request, context: PlazoRequestContext) async throws -> ReleaseList {
        let rows: [ReleaseRow]
        let (cache, access) = (self.cache, context.readAccess)
        do { rows = try await cache.readable(access).rows } catch { throw error.apiError }
        return ReleaseList(releases: rows.map(ReleaseList.Summary.init))
    }

    /// One release as JSON: metadata, and per table every noisy count and derived estimate with
    /// its interval, plus the names of its CSV downloads.
    @Sendable func show(request: Request, context: PlazoRequestContext) async throws -> Response {
        try Self.releaseResponse(.ok, try await loadRelease(context))
    }

    /// `tables/{name}.csv` (noisy counts) or `tables/{name}-estimates.csv` (derived estimates),
    /// where `{name}` is the table's file name in the Data Package (`t1-time_to_first_decision`).
    @Sendable func table(request: Request, context: PlazoRequestContext) async throws -> Response {
        let release = try await loadRelease(context)
        let file = try context.parameters.require("file")
        for t in release.tables.indices {
            let name = ReleaseExport.tableName(release, table: t)
            let bytes: [UInt8]
            if file == name + ".csv" {
                bytes = ReleaseExport.countsCSV(release, table: t)
            } else if file == name + "-estimates.csv" {
                bytes = ReleaseExport.estimatesCSV(release, table: t)
            } else {
                continue
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"plazo-release-\(release.metadata.id)-\(file)\"",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        let names = release.tables.indices.map { ReleaseExport.tableName(release, table: $0) + ".csv" }
        throw APIError(
            .notFound, "unknown_table",
            "release \(release.metadata.id) has no table file '\(file)'; its tables are " + names.joined(separator: ", ")
        )
    }

    /// The whole release as one archive in the Frictionless Data Package layout:
    /// `datapackage.json`, `README.md` (data dictionary) and the CSVs under `data/`
    /// (``ReleaseArchive``):
    /// - default (`format=zip`): a deflated zip with `datapackage.json` at its root, the layout of a
    ///   zipped Data Package, which the frictionless tools open and validate without extracting;
    /// - `format=tar`: a tar archive holding one directory `plazo-release-{id}/`.
    @Sendable func dataPackage(request: Request, context: PlazoRequestContext) async throws -> Response {
        let text = request.uri.queryParameters["format"].map(String.init) ?? ArchiveFormat.zip.rawValue
        guard let format = ArchiveFormat(rawValue: text) else {
            throw APIError(.badRequest, "bad_format", "format must be zip or tar")
        }
        let release = try await loadRelease(context)
        // Deflating a large package takes a while: off the cooperative pool. A failure (a bug:
        // every path Plazo writes fits both formats, datapackage.json always encodes) is a 500
        // whose cause is logged.
        let outcome = await Blocking.run { Result { () throws(ArchiveError) in try ReleaseArchive.dataPackage(release, format: format) } }
        let archive: (fileName: String, bytes: [UInt8])
        switch outcome {
        case let .success(a): archive = a
        case let .failure(error):
            throw APIError.internalError(cause: "the Data Package of release \(release.metadata.id) could not be written: \(error.code): \(error)")
        }
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType, .contentDisposition: "attachment; filename=\"\(archive.fileName)\""],
            body: .init(byteBuffer: ByteBuffer(bytes: archive.bytes))
        )
    }

    /// The release the path names, if the caller may read it.
    func loadRelease(_ context: PlazoRequestContext) async throws(APIError) -> Release {
        guard let id = Int64((try? context.parameters.require("id")) ?? ""), id > 0 else {
            throw APIError(.badRequest, "bad_release_id", "a release id is a positive integer")
        }
        // A public reader is refused a release that is not public before it is looked up, so the
        // answer says nothing of whether it exists.
        let cache = self.cache
        if context.readAccess == .publicOnly {
            let open: Set<Int64>
            do { open = try await cache.publicIDs() } catch {
                throw APIError(.serviceUnavailable, "store_unavailable", "the release could not be read", cause: "\(error)")
            }
            guard open.contains(id) else {
                throw PublicOrRole.notPublic("release \(id) is not public: reading it needs a researcher token", context: context, role: .researcher)
            }
        }
        let release: Release
        do { release = try await cache.publishedRelease(id) } catch {
            if case .notFound = error { throw error.apiError }
            throw APIError(.serviceUnavailable, "store_unavailable", "the release could not be read", cause: "\(error)")
        }
        return release
    }
}
