import Foundation
import HTTPTypes
import Hummingbird
import PlazoApp
import NIOCore
import PlazoDashboards
import PlazoReleases
import PlazoStore
import Synchronization

/// The HTTP face of the oversight bodies' dashboards (`PlazoDashboards`; `docs/api-guide.md`,
/// "Dashboards"):
/// - `GET /v1/dashboards`: every dashboard, its series, the releases that can answer it (with
///   their cohorts and breakdowns) and every filter with its values;
/// - `GET /v1/dashboards/{metric}`: one dashboard's series for the filtered cases; a filter with
///   several comma-separated values (`state=09,14`) gives one series per value;
/// - `GET /v1/dashboards/{metric}/trend`: the same figures across every release that can answer.
///
/// Public releases are read by anyone; the others need an `oversight` token (``PublicOrRole``).
/// Answers come as JSON, CSV (`?format=csv` or `Accept: text/csv`) or SVG (`?format=svg`), in
/// Spanish or English (`?lang=` or `Accept-Language`; Spanish by default). This controller reads
/// the releases the caller may read, hands them to `Dashboards`, and writes the answer.
struct DashboardController: Sendable {
    let cache: ReleaseCache
    /// Answers already written, by release, reader and query. A release never changes and an
    /// answer is a deterministic function of it and the query (the simulation seed is fixed by
    /// both), so a cached answer is exactly the one recomputing would give. Bounded: emptied when full.
    let answers = AnswerCache(limit: 4096)

    final class AnswerCache: Sendable {
        let limit: Int
        private let entries = Mutex<[String: [UInt8]]>([:])
        init(limit: Int) { self.limit = limit }

        func get(_ key: String) -> [UInt8]? { entries.withLock { $0[key] } }

        func put(_ key: String, _ value: [UInt8]) {
            entries.withLock { e in
                if e.count >= limit { e.removeAll(keepingCapacity: true) }
                e[key] = value
            }
        }
    }

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.get("dashboards", use: index)
        group.get("dashboards/{metric}", use: board)
        group.get("dashboards/{metric}/trend", use: trend)
    }

    // MARK: - From the request

    /// `body`'s value, or its refusal as the API answers it (`APIError+Domain.swift`).
    static func refusing<T>(_ context: PlazoRequestContext, _ body: () throws(DashboardError) -> T) throws(APIError) -> T {
        do { return try body() } catch { throw error.apiError(context: context) }
    }

    /// The request's query, parsed and checked by `DashboardQuery`.
    static func query(_ request: Request, context: PlazoRequestContext, trend: Bool = false) throws(APIError) -> DashboardQuery {
        let pairs = request.uri.queryParameters.map { (key, value) in
            (String(key), String(value).removingPercentEncoding ?? String(value))
        }
        return try refusing(context) { () throws(DashboardError) in
            try DashboardQuery.parse(pairs, acceptLanguage: request.headers[.acceptLanguage], accept: request.headers[.accept], trend: trend)
        }
    }

    /// The dashboard named by the path.
    static func board(_ query: DashboardQuery, context: PlazoRequestContext) throws -> DashboardBoard {
        let name = try context.parameters.require("metric")
        return try refusing(context) { () throws(DashboardError) in try query.board(named: name.removingPercentEncoding ?? name) }
    }

    /// What the caller may read, as the answers differ by it.
    static func reader(_ context: PlazoRequestContext) -> DashboardReader {
        DashboardReader(readsEveryRelease: context.readAccess == .allPublished, readsReleaseTables: context.token?.role == .researcher)
    }

    /// The releases `access` may read, newest first, decoded, with whether each is public; and
    /// whether any release is published at all, public or not (what a public reader with none is
    /// told). One store read (``ReleaseCache/readable(_:)``), and the decoding of a release not
    /// seen yet.
    func readable(_ access: ReadAccess) async throws(APIError) -> (releases: [DashboardRelease], anyPublished: Bool) {
        do throws(ReleaseError) {
            let (rows, anyPublished, open) = try await cache.readable(access)
            var releases: [DashboardRelease] = []
            for row in rows.reversed() { releases.append(DashboardRelease(release: try await cache.release(row.id), isPublic: open.contains(row.id))) }
            return (releases, anyPublished)
        } catch {
            throw APIError(.serviceUnavailable, "store_unavailable", "the releases could not be read", cause: "\(error)")
        }
    }

    // MARK: - GET /v1/dashboards

    /// The dashboards, their series, the releases that can answer each and every filter.
    @Sendable func index(request: Request, context: PlazoRequestContext) async throws -> EditedResponse<DashboardIndexResponse> {
        let query = try Self.query(request, context: context)
        let (releases, _) = try await readable(context.readAccess)
        return EditedResponse(headers: Self.varyHeaders, response: Dashboards.index(query, releases: releases, reader: Self.reader(context)))
    }

    // MARK: - GET /v1/dashboards/{metric}

    /// One dashboard from the release named by `release=` or the default one, which the answer echoes.
    @Sendable func board(request: Request, context: PlazoRequestContext) async throws -> DashboardBody {
        let query = try Self.query(request, context: context)
        let board = try Self.board(query, context: context)
        let reader = Self.reader(context)
        let (releases, anyPublished) = try await readable(context.readAccess)
        let selection = try Self.refusing(context) { () throws(DashboardError) in
            try Dashboards.select(board, query, releases: releases, reader: reader, anyPublished: { anyPublished })
        }
        let id = selection.release.release.metadata.id
        let name = "plazo-\(board.rawValue)-\(id)"
        let key = "\(id)|\(selection.release.isPublic)|\(context.token?.role.rawValue ?? "")|\(selection.reason)|\(board.rawValue)|\(query.key)"
        if let body = answers.get(key) { return DashboardBody(body, query.format, name: name) }
        let answer = try Self.refusing(context) { () throws(DashboardError) in
            try Dashboards.answer(board, from: selection, query: query, reader: reader)
        }
        let body = try Self.write(answer, query.format, context: context)
        answers.put(key, body)
        return DashboardBody(body, query.format, name: name)
    }

    // MARK: - GET /v1/dashboards/{metric}/trend

    /// The same figures across every readable release that can answer, oldest first.
    @Sendable func trend(request: Request, context: PlazoRequestContext) async throws -> DashboardBody {
        let query = try Self.query(request, context: context, trend: true)
        let board = try Self.board(query, context: context)
        let reader = Self.reader(context)
        let (readable, anyPublished) = try await readable(context.readAccess)
        let name = "plazo-\(board.rawValue)-trend"
        let releases = try Self.refusing(context) { () throws(DashboardError) in
            try Dashboards.trendReleases(board, query, releases: readable, reader: reader, anyPublished: { anyPublished })
        }
        let key = "trend|\(releases.map { "\($0.release.metadata.id)" }.joined(separator: ","))|\(context.token?.role.rawValue ?? "")|\(board.rawValue)|\(query.key)"
        if let body = answers.get(key) { return DashboardBody(body, query.format, name: name) }
        let answer = try Self.refusing(context) { () throws(DashboardError) in
            try Dashboards.trend(board, query, releases: releases, reader: reader)
        }
        let body = try Self.write(answer, query.format, context: context)
        answers.put(key, body)
        return DashboardBody(body, query.format, name: name)
    }

    // MARK: - Writing answers

    /// Answers vary with the language and format negotiated from these headers.
    static let varyHeaders: HTTPFields = [.vary: "Accept, Accept-Language, Authorization"]

    /// A board answer's bytes in `format`: JSON with the context's encoder, CSV or SVG.
    static func write(_ answer: DashboardResponse, _ format: DashboardFormat, context: PlazoRequestContext) throws(APIError) -> [UInt8] {
        switch format {
        case .json: try context.responseEncoder.bytes(answer)
        case .csv: DashboardCSV.csv(answer)
        case .svg: Array(DashboardChart.svg(answer).utf8)
        }
    }

    /// A trend answer's bytes in `format`.
    static func write(_ answer: DashboardTrendResponse, _ format: DashboardFormat, context: PlazoRequestContext) throws(APIError) -> [UInt8] {
        switch format {
        case .json: try context.responseEncoder.bytes(answer)
        case .csv: DashboardCSV.csv(answer)
        case .svg: Array(DashboardChart.svg(answer).utf8)
        }
    }
}

/// A dashboard answer already written (JSON, CSV or SVG), with its headers: `name` is the file
/// name without its extension. An SVG opened on its own runs nothing (`default-src 'none'`; the
/// chart holds no script and no style sheet) and is never sniffed as HTML.
struct DashboardBody: ResponseGenerator {
    let bytes: [UInt8]
    let format: DashboardFormat
    let name: String

    init(_ bytes: [UInt8], _ format: DashboardFormat, name: String) {
        self.bytes = bytes
        self.format = format
        self.name = name
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = DashboardController.varyHeaders
        switch format {
        case .json: return jsonResponse(.ok, bytes: bytes, headers: headers)
        case .csv:
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "inline; filename=\"\(name).csv\""
        case .svg:
            headers[.contentType] = "image/svg+xml; charset=utf-8"
            headers[.contentDisposition] = "inline; filename=\"\(name).svg\""
            headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
            headers[.xContentTypeOptions] = "nosniff"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// `GET /v1/dashboards` answers with the index as it is, encoded by the request context.
extension DashboardIndexResponse: ResponseEncodable {}
