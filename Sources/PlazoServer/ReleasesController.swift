import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoIngest
import PlazoReleases
import PlazoStore
import Synchronization

/// Runs `body` on a Dispatch worker thread, leaving Swift's cooperative pool to other requests.
func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: body()) }
    }
}

/// Stored releases, decoded once: a release is immutable, so a decoded copy never goes stale.
final class ReleaseCache: Sendable {
    let engine: ReleaseEngine
    private let decoded = Mutex<[Int64: Release]>([:])

    init(engine: ReleaseEngine) { self.engine = engine }

    /// The release `id` (``ReleaseError/notFound(_:)`` when there is none).
    func release(_ id: Int64) throws(ReleaseError) -> Release {
        if let hit = decoded.withLock({ $0[id] }) { return hit }
        let release = try engine.release(id: id)
        decoded.withLock { $0[id] = release }
        return release
    }

    /// Every published release's metadata row, oldest first (drafts are not releases; withdrawn
    /// releases are hidden from researchers and dashboards).
    func list() throws(ReleaseError) -> [ReleaseRow] { try engine.publishedList() }

    /// The release `id` if it is published (``ReleaseError/notFound(_:)`` otherwise: a withdrawn
    /// release is not shown to readers, and says nothing more than a missing one).
    func publishedRelease(_ id: Int64) throws(ReleaseError) -> Release {
        guard try engine.status(releaseID: id) == .published else { throw .notFound(id) }
        return try release(id)
    }
}

/// The release endpoints: stewards create (`POST /v1/releases`), researchers read
/// (`GET /v1/releases`, `/v1/releases/{id}`, `/v1/releases/{id}/tables/{file}.csv`,
/// `/v1/releases/{id}/datapackage`). Everything a researcher receives was computed from noisy
/// counts when the release was created; reading never touches case data and never re-noises.
struct ReleasesController: Sendable {
    let ingest: IngestService
    let cache: ReleaseCache
    /// The case projection of recent cutoffs, reused while no event arrives: a steward's batch
    /// of releases at one cutoff (or a retry after `budget_exceeded`) evaluates the cases once.
    let projections = ProjectionCache()

    /// `POST /v1/releases` (mounted behind the steward role).
    func addStewardRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.post("releases", use: create)
        group.post("releases/{id}/withdraw", use: withdraw)
        group.get("release-drafts", use: listDrafts)
        group.get("release-drafts/{id}", use: showDraft)
        group.post("release-drafts/{id}/publish", use: publishDraft)
        group.post("release-drafts/{id}/withdraw", use: withdrawDraft)
    }

    /// The read routes (mounted behind the researcher role).
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
            return errorResponse(.contentTooLarge, code: "too_large", message: "the body is larger than \(maxJSONBodySize) bytes")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) is [String: Any] else {
            return errorResponse(.badRequest, code: "bad_json", message: "the body must be a release spec (a JSON object)")
        }
        let requester = context.token?.name ?? "steward"
        let body = Array(bytes.readableBytesView)
        // Strict flags: a misspelt value must not turn a dry run or a draft into a real, charged release.
        let dryRunText = request.uri.queryParameters["dry_run"].map(String.init)
        guard dryRunText == nil || ["true", "false", "1", "0"].contains(dryRunText!) else {
            return errorResponse(.badRequest, code: "bad_parameter", message: "dry_run must be true or false; nothing was computed or spent")
        }
        let dryRun = dryRunText == "true" || dryRunText == "1"
        let draftValue = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["draft"]
        guard draftValue == nil || draftValue is Bool else {
            return errorResponse(.unprocessableContent, code: "invalid_spec", message: "\"draft\" must be true or false; nothing was computed or spent")
        }
        let asDraft = draftValue as? Bool ?? false
        if dryRun || asDraft {
            return planOrDraft(body: body, requester: requester, dryRun: dryRun, context: context)
        }
        let live = liveState
        let engine = cache.engine
        // Seconds of CPU on a large store: off the cooperative pool, so other requests go on.
        let outcome: Result<Release, ReleaseError> = await offload {
            do throws(ReleaseError) {
                let spec = try ReleaseSpec.decode(json: body)
                return .success(try engine.create(spec: spec, requester: requester, live: live))
            } catch {
                return .failure(error)
            }
        }
        let release: Release
        switch outcome {
        case let .success(r): release = r
        case let .failure(error):
            context.logger.notice("release refused", metadata: ["reason": "\(error.code)"])
            return releaseError(error)
        }
        context.logger.info(
            "release created", metadata: ["release.id": "\(release.metadata.id)", "release.cohorts": "\(release.metadata.cohorts.count)"]
        )
        return Response(
            status: .created,
            headers: [.contentType: "application/json", .location: "/v1/releases/\(release.metadata.id)"],
            body: .init(byteBuffer: ByteBuffer(bytes: ReleaseExport.json(release)))
        )
    }

    // MARK: - Researcher

    /// The published releases (metadata only), oldest first.
    @Sendable func list(request: Request, context: PlazoRequestContext) async throws -> Response {
        do {
            let rows = try cache.list()
            return jsonResponse(.ok, ["releases": rows.map(Self.rowJSON)])
        } catch { return releaseError(error) }
    }

    static func rowJSON(_ r: ReleaseRow) -> [String: Any] {
        [
            "id": Int(r.id), "title": r.title, "created_at": timestamp(r.createdAt), "cutoff": r.cutoff, "cohorts": r.cohorts,
            "total_rho": r.totalRho, "code_version": r.codeVersion,
            "links": [
                "self": "/v1/releases/\(r.id)", "datapackage": "/v1/releases/\(r.id)/datapackage",
            ],
        ]
    }

    /// One release as JSON: metadata, and per table every noisy count and derived estimate with
    /// its interval, plus the names of its CSV downloads.
    @Sendable func show(request: Request, context: PlazoRequestContext) async throws -> Response {
        switch loadRelease(context) {
        case let .failure(e): return e.response
        case let .success(release):
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: ReleaseExport.json(release)))
            )
        }
    }

    /// `tables/{name}.csv` (noisy counts) or `tables/{name}-estimates.csv` (derived estimates),
    /// where `{name}` is the table's file name in the Data Package (`t1-time_to_first_decision`).
    @Sendable func table(request: Request, context: PlazoRequestContext) async throws -> Response {
        let release: Release
        switch loadRelease(context) {
        case let .failure(e): return e.response
        case let .success(r): release = r
        }
        let file = pathParameter(context, "file")
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
        return errorResponse(
            .notFound, code: "unknown_table",
            message: "release \(release.metadata.id) has no table file '\(file)'; its tables are " + names.joined(separator: ", ")
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
            return errorResponse(.badRequest, code: "bad_format", message: "format must be zip or tar")
        }
        switch loadRelease(context) {
        case let .failure(e): return e.response
        case let .success(release):
            // Deflating a large package takes a while: off the event loop. A failure (a bug: every
            // path Plazo writes fits both formats) becomes the middleware's 500.
            let archive = try await offload { Result { () throws(ArchiveError) in try ReleaseArchive.dataPackage(release, format: format) } }.get()
            return Response(
                status: .ok,
                headers: [.contentType: format.contentType, .contentDisposition: "attachment; filename=\"\(archive.fileName)\""],
                body: .init(byteBuffer: ByteBuffer(bytes: archive.bytes))
            )
        }
    }

    func loadRelease(_ context: PlazoRequestContext) -> Result<Release, ResponseError> {
        let text = pathParameter(context, "id")
        guard let id = Int64(text), id > 0 else {
            return .failure(ResponseError(.badRequest, "bad_release_id", "a release id is a positive integer"))
        }
        do { return .success(try cache.publishedRelease(id)) } catch {
            if case .notFound = error { return .failure(ResponseError(.notFound, error.code, error.description)) }
            return .failure(ResponseError(.serviceUnavailable, "store_unavailable", "the release could not be read"))
        }
    }

    func releaseError(_ error: ReleaseError) -> Response {
        switch error {
        case .invalidSpec: errorResponse(.unprocessableContent, code: error.code, message: error.description)
        case .budgetExceeded: errorResponse(.conflict, code: error.code, message: error.description)
        case .notFound: errorResponse(.notFound, code: error.code, message: error.description)
        case .invalidQuery: errorResponse(.badRequest, code: error.code, message: error.description)
        case .noise, .store, .corruptDocument:
            errorResponse(.serviceUnavailable, code: "store_unavailable", message: "the release could not be computed or stored; nothing was spent")
        }
    }
}
