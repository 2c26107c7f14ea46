import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PlazoModel
import PlazoReleases
import PlazoStore
import Synchronization

/// The oversight bodies' dashboards (`docs/api-guide.md`, "Dashboards"), answered from
/// **published releases only** (post-processing of their noisy counts: no budget is spent and no
/// case data is read):
/// - `GET /v1/dashboards`: every dashboard, its series, the releases that can answer it (with
///   their cohorts and breakdowns) and every filter with its values;
/// - `GET /v1/dashboards/{metric}`: one dashboard's series for the filtered cases; a filter with
///   several comma-separated values (`state=09,14`) gives one series per value;
/// - `GET /v1/dashboards/{metric}/trend`: the same figures across every release that can answer.
///
/// Public releases are read by anyone; the others need an `oversight` token (``PublicOrRole``).
/// Answers come as JSON or CSV (`?format=csv` or `Accept: text/csv`), in Spanish or English
/// (`?lang=` or `Accept-Language`; Spanish by default).
struct DashboardController: Sendable {
    let cache: ReleaseCache
    /// Answers already computed, by release and query. A release never changes and an answer is
    /// a deterministic function of it and the query (the simulation seed is fixed by both), so a
    /// cached answer is exactly the one recomputing would give. Bounded: emptied when full.
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

    /// Query parameters naming a breakdown filter (short and long spellings).
    static let filterParameters: [String: BreakdownDimension] = [
        "state": .state, "offence": .offence, "offence_category": .offence, "age_band": .ageBand, "victim_age_band": .ageBand,
        "channel": .channel, "report_channel": .channel, "agency_type": .agencyType,
    ]

    /// The short parameter name of each dimension, as answers echo it.
    static func parameterName(_ d: BreakdownDimension) -> String {
        switch d {
        case .state: "state"
        case .offence: "offence"
        case .ageBand: "age_band"
        case .channel: "channel"
        case .agencyType: "agency_type"
        }
    }

    /// Every parameter a dashboard takes (`x` on the trend only).
    static let parameters = ["state", "offence", "age_band", "channel", "agency_type", "cohort", "release", "lang", "format"]

    /// The longest value echoed back in an error message: the rest is cut, so that an over-long
    /// query string is never reflected whole.
    static let maxEchoed = 40

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.get("dashboards", use: index)
        group.get("dashboards/{metric}", use: board)
        group.get("dashboards/{metric}/trend", use: trend)
    }

    // MARK: - The query

    /// A dashboard query, parsed and checked.
    struct Query {
        var lang: DashboardLanguage = .es
        var csv = false
        /// `format=svg`: the answer drawn as a chart (`DashboardChart.swift`).
        var svg = false
        /// One value per dimension, except the comparison dimension.
        var filter: [BreakdownDimension: String] = [:]
        /// The dimension with several values, and its values in the order given.
        var comparison: (BreakdownDimension, [String])?
        var cohort: String?
        var releaseID: Int64?
        /// The trend's point (`x=365`, `x=charged`).
        var x: String?

        var text: DashboardText { DashboardText(lang: lang) }

        /// Every dimension filtered on (the comparison's included).
        var dimensions: Set<BreakdownDimension> { Set(filter.keys).union(comparison.map { [$0.0] } ?? []) }

        /// The groups to answer for: one per comparison value, or one.
        var groups: [[BreakdownDimension: String]] {
            guard let (d, values) = comparison else { return [filter] }
            return values.map { v in filter.merging([d: v]) { a, _ in a } }
        }

        /// The filters as answers echo them.
        var echoed: [String: [String]] {
            var out: [String: [String]] = [:]
            for (d, code) in filter { out[DashboardController.parameterName(d)] = [code] }
            if let (d, values) = comparison { out[DashboardController.parameterName(d)] = values }
            if let cohort { out["cohort"] = [cohort] }
            return out
        }

        /// A canonical form for the answer cache.
        var key: String {
            let f = echoed.map { "\($0.key)=\($0.value.joined(separator: ","))" }.sorted().joined(separator: "&")
            return "\(lang.rawValue)|\(csv)|\(svg)|\(f)|\(x ?? "")"
        }
    }

    /// Parses the query string: unknown parameters and values are refused with the valid choices
    /// (never silently ignored, so that a misspelt filter is not answered with unfiltered figures).
    static func parse(_ request: Request, trend: Bool = false) throws(APIError) -> Query {
        var query = Query()
        var pairs: [(String, String)] = []
        for (key, value) in request.uri.queryParameters {
            let k = String(key)
            let v = String(value).removingPercentEncoding ?? String(value)
            pairs.append((k, v))
        }
        // The language first, so that every other refusal is in it.
        let langValue = pairs.last { $0.0 == "lang" }?.1
        guard let lang = DashboardLanguage.negotiate(query: langValue, acceptLanguage: request.headers[.acceptLanguage]) else {
            throw APIError(.badRequest, "invalid_parameter", DashboardText(lang: .es).invalidValue(echo(langValue ?? ""), parameter: "lang", valid: ["es", "en"]))
        }
        query.lang = lang
        let text = query.text
        let accepted = parameters + (trend ? ["x"] : [])
        var seen = Set<String>()
        for (k, v) in pairs {
            if k != "lang", !seen.insert(Self.filterParameters[k].map(parameterName) ?? k).inserted {
                throw APIError(.badRequest, "invalid_filter", text.repeated(echo(k)))
            }
            if let dimension = Self.filterParameters[k] {
                let values = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                var codes: [String] = []
                for value in values {
                    guard let code = normalise(value, for: dimension) else {
                        throw APIError(.badRequest, "invalid_filter", text.invalidValue(echo(value), parameter: k, valid: dimension.codes))
                    }
                    if !codes.contains(code) { codes.append(code) }
                }
                if codes.count == 1 {
                    query.filter[dimension] = codes[0]
                } else {
                    if let (other, _) = query.comparison {
                        throw APIError(.badRequest, "invalid_filter", text.oneComparison(parameterName(other), parameterName(dimension)))
                    }
                    query.comparison = (dimension, codes)
                }
            } else if k == "cohort" {
                // A quarter (`2025Q1`), or a report year (`2025`) answered by tables pooled by year.
                let year = v.count == 4 && v.allSatisfy(\.isASCII) && v.allSatisfy(\.isNumber) && (2000...2255).contains(Int(v) ?? 0)
                guard Quarter(canonical: v) != nil || year else {
                    throw APIError(.badRequest, "invalid_filter", text.invalidValue(echo(v), parameter: "cohort", valid: ["2024Q1", "2024Q2", "…", "2024", "…"]))
                }
                query.cohort = v
            } else if k == "release" {
                guard let id = Int64(v), id > 0 else {
                    throw APIError(.badRequest, "invalid_filter", text.invalidValue(echo(v), parameter: "release", valid: ["1", "2", "…"]))
                }
                query.releaseID = id
            } else if k == "format" {
                guard v == "json" || v == "csv" || v == "svg" else {
                    throw APIError(.badRequest, "invalid_parameter", text.invalidValue(echo(v), parameter: "format", valid: ["json", "csv", "svg"]))
                }
                query.csv = v == "csv"
                query.svg = v == "svg"
            } else if k == "x", trend {
                guard !v.isEmpty, v.count <= 16 else {
                    throw APIError(.badRequest, "invalid_parameter", text.invalidValue(echo(v), parameter: "x", valid: ["365", "charged", "…"]))
                }
                query.x = v
            } else if k != "lang" {
                throw APIError(.badRequest, "unknown_parameter", text.unknownParameter(echo(k), valid: accepted))
            }
        }
        // Content negotiation when `format` is not given: CSV when the client asks for it before JSON.
        if !pairs.contains(where: { $0.0 == "format" }), let accept = request.headers[.accept], let csvAt = accept.range(of: "text/csv") {
            let jsonAt = accept.range(of: "application/json")
            query.csv = jsonAt == nil || csvAt.lowerBound < jsonAt!.lowerBound
        }
        return query
    }

    /// A value as an error message may echo it: letters, digits and `_ . : , + -` only (anything
    /// else becomes `?`, so no markup or control character is ever reflected), at most
    /// ``maxEchoed`` of them. Every valid value is made of those characters.
    static func echo(_ value: String) -> String {
        let safe = String(value.prefix(maxEchoed).map { c -> Character in
            c.isLetter || c.isNumber || "_.:,+- ".contains(c) ? c : "?"
        })
        return value.count > maxEchoed ? safe + "…" : safe
    }

    /// A filter value as its public code label: states also as `9` or `09`.
    static func normalise(_ value: String, for dimension: BreakdownDimension) -> String? {
        let codes = dimension.codes
        if codes.contains(value) { return value }
        if dimension == .state, let n = Int(value), (1...32).contains(n) { return n < 10 ? "0\(n)" : "\(n)" }
        return codes.first { $0.caseInsensitiveCompare(value) == .orderedSame }
    }

    static func board(_ context: PlazoRequestContext, _ text: DashboardText) throws(APIError) -> DashboardBoard {
        let name = pathParameter(context, "metric")
        guard let board = DashboardBoard(rawValue: name) else {
            throw APIError(.notFound, "unknown_metric", text.unknownMetric(echo(name), valid: DashboardBoard.allCases.map(\.rawValue)))
        }
        return board
    }

    // MARK: - Releases the caller may read

    /// The readable releases, newest first, decoded, with whether each is public.
    func readable(_ access: ReadAccess) throws(APIError) -> [(release: Release, isPublic: Bool)] {
        do {
            let open = try cache.publicIDs()
            return try cache.readable(access).reversed().map { (try cache.release($0.id), open.contains($0.id)) }
        } catch {
            throw APIError(.serviceUnavailable, "store_unavailable", "the releases could not be read", cause: "\(error)")
        }
    }

    /// Links to what the caller may read: the release document and its Data Package, for a
    /// researcher or for a public release; nothing otherwise (an oversight token reads the
    /// dashboards, not the tables).
    static func links(_ id: Int64, isPublic: Bool, context: PlazoRequestContext) -> DashboardLinks {
        let researcher = context.token?.role == .researcher
        guard isPublic || researcher else { return DashboardLinks() }
        return DashboardLinks(release: "/v1/releases/\(id)", dataPackage: "/v1/releases/\(id)/datapackage")
    }

    /// Whether `release` can answer every filter of `query` for `board`.
    static func canAnswer(_ release: Release, _ board: DashboardBoard, _ query: Query) -> Bool {
        if let cohort = query.cohort, !release.metadata.cohorts.contains(cohort),
            !release.tables.indices.contains(where: { t in release.cohortGroups(table: t).contains { $0.label == cohort } }) {
            return false
        }
        return board.series.contains { Dashboard.canAnswer(release, metric: $0, dimensions: query.dimensions, cohort: query.cohort) }
    }

    /// The release to answer from: the one named, or the default (the newest readable release
    /// that has the requested breakdown and cohort).
    func select(_ board: DashboardBoard, _ query: Query, context: PlazoRequestContext) throws(APIError) -> (Release, Bool, String) {
        let text = query.text
        let releases = try readable(context.readAccess)
        if let id = query.releaseID {
            if let hit = releases.first(where: { $0.release.metadata.id == id }) { return (hit.release, hit.isPublic, "requested") }
            // To a public reader, any release that is not a readable one is refused alike, so the
            // answer says nothing of whether it exists.
            if context.readAccess == .publicOnly {
                throw PublicOrRole.notPublic(text.notPublic(id), context: context, role: .oversight)
            }
            throw APIError(.notFound, "release_not_found", text.releaseNotFound(String(id), valid: releases.map(\.release.metadata.id)))
        }
        guard !releases.isEmpty else {
            // Releases exist but none is public: the caller needs the role, not a wait.
            if context.readAccess == .publicOnly, !((try? cache.list())?.isEmpty ?? true) {
                throw PublicOrRole.notPublic(text.noPublicRelease(), context: context, role: .oversight)
            }
            throw APIError(.notFound, "no_release", text.noRelease())
        }
        guard let hit = releases.first(where: { Self.canAnswer($0.release, board, query) }) else {
            throw APIError(.unprocessableContent, "unanswerable_query", text.unanswerable(breakdowns: Self.breakdownChoices(board, releases.map(\.release), text: text)))
        }
        return (hit.release, hit.isPublic, "default")
    }

    /// The breakdowns the releases offer for `board`, as `release 3: state+offence, …`.
    static func breakdownChoices(_ board: DashboardBoard, _ releases: [Release], text: DashboardText) -> [String] {
        releases.prefix(5).map { r in
            let dims = board.series.flatMap { Dashboard.breakdowns(r, metric: $0) }
            var unique: [String] = []
            for d in dims {
                let s = d.isEmpty ? "—" : d.map(parameterName).joined(separator: "+")
                if !unique.contains(s) { unique.append(s) }
            }
            // Breakdowns pooled by report year, marked so: they answer without a quarter as cohort.
            for d in board.series.flatMap({ Dashboard.yearBreakdowns(r, metric: $0) }) {
                let s = (d.isEmpty ? "—" : d.map(parameterName).joined(separator: "+")) + " (\(text.byYear()))"
                if !unique.contains(s) { unique.append(s) }
            }
            return "release \(r.metadata.id) (\(r.metadata.cohorts.joined(separator: ","))): " + unique.joined(separator: ", ")
        }
    }

    // MARK: - GET /v1/dashboards

    /// The dashboards, their series, the releases that can answer each (with cohorts and
    /// breakdowns), and every filter with its values and labels.
    @Sendable func index(request: Request, context: PlazoRequestContext) async throws -> Response {
        let query = try Self.parse(request)
        let text = query.text
        let releases = try readable(context.readAccess)
        let boards = DashboardBoard.allCases.map { b in
            let choices = releases.filter { r in
                b.series.contains { !Dashboard.breakdowns(r.release, metric: $0).isEmpty || !Dashboard.yearBreakdowns(r.release, metric: $0).isEmpty }
            }
            return DashboardIndexResponse.Board(
                metric: b.rawValue, title: text.title(b), description: text.description(b), href: "/v1/dashboards/\(b.rawValue)",
                series: b.series.map { DashboardIndexResponse.Series(name: $0.rawValue, title: text.title($0), unit: $0.unit, xAxis: $0.xAxis) },
                releases: choices.map { r in
                    let dims = b.series.flatMap { Dashboard.breakdowns(r.release, metric: $0) }
                    var unique: [[String]] = []
                    for d in dims.map({ $0.map(Self.parameterName) }) where !unique.contains(d) { unique.append(d) }
                    var byYear: [[String]] = []
                    for d in b.series.flatMap({ Dashboard.yearBreakdowns(r.release, metric: $0) }).map({ $0.map(Self.parameterName) })
                    where !byYear.contains(d) { byYear.append(d) }
                    return DashboardIndexResponse.ReleaseChoice(
                        id: r.release.metadata.id, title: r.release.metadata.title, cutoff: r.release.metadata.cutoff,
                        cohorts: r.release.metadata.cohorts, isPublic: r.isPublic, breakdowns: unique, breakdownsByYear: byYear,
                        links: Self.links(r.release.metadata.id, isPublic: r.isPublic, context: context))
                },
                defaultRelease: choices.first?.release.metadata.id)
        }
        var cohorts: [String] = []
        for r in releases { for c in r.release.metadata.cohorts where !cohorts.contains(c) { cohorts.append(c) } }
        var filters = BreakdownDimension.allCases.map { d in
            DashboardIndexResponse.Filter(
                name: Self.parameterName(d), title: text.dimensionName(d), dimension: d.rawValue, multiple: true,
                values: d.codes.map { DashboardIndexResponse.FilterValue(code: $0, label: text.valueLabel(d, $0)) })
        }
        filters.append(DashboardIndexResponse.Filter(
            name: "cohort", title: text.cohortName(), dimension: nil, multiple: false,
            values: cohorts.sorted().map { DashboardIndexResponse.FilterValue(code: $0, label: $0) }))
        filters.append(DashboardIndexResponse.Filter(
            name: "release", title: text.releaseName(), dimension: nil, multiple: false,
            values: releases.map { DashboardIndexResponse.FilterValue(code: "\($0.release.metadata.id)", label: $0.release.metadata.title) }))
        let level = releases.first?.release.metadata.confidenceLevel
        return try jsonResponse(.ok, DashboardIndexResponse(
            lang: query.lang.rawValue, dashboards: boards, filters: filters, parameters: Self.parameters,
            defaultRelease: text.defaultRule(), intervalNote: level.map(text.intervalNote)),
            headers: Self.varyHeaders)
    }

    // MARK: - GET /v1/dashboards/{metric}

    /// One dashboard: every series of the board for the filtered cases (one per comparison
    /// value), from the release named by `release=` or the default one, which the answer echoes.
    @Sendable func board(request: Request, context: PlazoRequestContext) async throws -> Response {
        let query = try Self.parse(request)
        let board = try Self.board(context, query.text)
        let (release, isPublic, selection) = try select(board, query, context: context)
        let key = "\(release.metadata.id)|\(isPublic)|\(context.token?.role.rawValue ?? "")|\(selection)|\(board.rawValue)|\(query.key)"
        if let body = answers.get(key) { return Self.respond(body, query, name: "plazo-\(board.rawValue)-\(release.metadata.id)") }
        let answer = try Self.answer(board, release: release, isPublic: isPublic, selection: selection, query: query, context: context)
        let body = query.svg ? Array(DashboardChart.svg(answer).utf8) : query.csv ? Self.csv(answer) : try encodeJSON(answer)
        answers.put(key, body)
        return Self.respond(body, query, name: "plazo-\(board.rawValue)-\(release.metadata.id)")
    }

    /// The answer of `board` from `release`.
    static func answer(
        _ board: DashboardBoard, release: Release, isPublic: Bool, selection: String, query: Query, context: PlazoRequestContext
    ) throws(APIError) -> DashboardResponse {
        let text = query.text
        let level = release.metadata.confidenceLevel
        var series: [DashboardSeriesJSON] = []
        var problem: String?
        for group in query.groups {
            let groupEcho: [String: String]? = query.comparison.map { (d, _) in [parameterName(d): group[d]!] }
            let groupLabel = query.comparison.map { (d, _) in text.valueLabel(d, group[d]!) }
            for metric in board.series {
                do {
                    let points = try Dashboard.series(release, metric: metric, filter: group, cohort: query.cohort)
                    let pooling = Dashboard.pooling(release, metric: metric, filter: group, cohort: query.cohort)
                    series.append(DashboardSeriesJSON(
                        name: metric.rawValue, title: text.title(metric), unit: metric.unit, xAxis: metric.xAxis,
                        group: groupEcho, groupLabel: groupLabel, cohortPooling: pooling?.rawValue,
                        poolingNote: pooling.map { _ in text.pooledByYear() },
                        points: points.map { point($0, metric: metric, level: level, text: text) }))
                } catch {
                    problem = error.description
                }
            }
        }
        if series.isEmpty {
            throw APIError(
                .unprocessableContent, "unanswerable_query",
                text.unanswerable(breakdowns: breakdownChoices(board, [release], text: text)), cause: problem)
        }
        return DashboardResponse(
            metric: board.rawValue, title: text.title(board), description: text.description(board), lang: query.lang.rawValue,
            filters: query.echoed,
            release: DashboardReleaseRef(
                id: release.metadata.id, title: release.metadata.title, cutoff: release.metadata.cutoff,
                cohorts: release.metadata.cohorts, confidenceLevel: level, isPublic: isPublic, selection: selection,
                defaultRule: text.defaultRule(), links: links(release.metadata.id, isPublic: isPublic, context: context)),
            intervalNote: text.intervalNote(level: level), series: series)
    }

    /// A point as JSON, rounded to what the noise lets it say.
    static func point(_ p: DashboardPoint, metric: DashboardMetric, level: Double, text: DashboardText) -> DashboardPointJSON {
        DashboardPointJSON(
            x: p.x, day: p.day, label: text.label(axis: metric.xAxis, x: p.x),
            value: round(p.value, metric.unit),
            interval: DashboardInterval(low: round(p.ciLow, metric.unit), high: round(p.ciHigh, metric.unit), level: level),
            status: p.status.rawValue, statusText: text.status(p.status, observedUntil: p.observedUntil), reliable: p.reliable,
            observedUntil: p.observedUntil, denominator: denominator(p.denominator, level: level))
    }

    static func denominator(_ d: DashboardCount?, level: Double) -> DashboardDenominator? {
        d.map {
            DashboardDenominator(
                value: round($0.value, "cases")!,
                interval: DashboardInterval(low: round($0.low, "cases"), high: round($0.high, "cases"), level: level))
        }
    }

    /// Rounds a figure to what its unit can say: proportions to 4 decimals (0.01 percentage
    /// points), days to 1 decimal, cases to whole numbers. Post-processing of published figures.
    static func round(_ v: Double?, _ unit: String) -> Double? {
        guard let v, v.isFinite else { return nil }
        switch unit {
        case "proportion": return (v * 10_000).rounded() / 10_000
        case "days": return (v * 10).rounded() / 10
        default: return v.rounded()
        }
    }

    // MARK: - GET /v1/dashboards/{metric}/trend

    /// The same figures across every readable release that can answer, oldest first: per series
    /// (and comparison value) and per x (or only `x=`), the value in each release.
    @Sendable func trend(request: Request, context: PlazoRequestContext) async throws -> Response {
        let query = try Self.parse(request, trend: true)
        let text = query.text
        let board = try Self.board(context, text)
        var releases = try readable(context.readAccess)
        if let id = query.releaseID { releases = releases.filter { $0.release.metadata.id == id } }
        let answering = releases.filter { Self.canAnswer($0.release, board, query) }.reversed()
        guard !answering.isEmpty else {
            if releases.isEmpty {
                if context.readAccess == .publicOnly, query.releaseID != nil || !((try? cache.list())?.isEmpty ?? true) {
                    throw PublicOrRole.notPublic(query.releaseID.map(text.notPublic) ?? text.noPublicRelease(), context: context, role: .oversight)
                }
                throw APIError(.notFound, query.releaseID == nil ? "no_release" : "release_not_found", text.noRelease())
            }
            throw APIError(.unprocessableContent, "unanswerable_query", text.unanswerable(breakdowns: Self.breakdownChoices(board, releases.map(\.release), text: text)))
        }
        let key = "trend|\(answering.map { "\($0.release.metadata.id)" }.joined(separator: ","))|\(context.token?.role.rawValue ?? "")|\(board.rawValue)|\(query.key)"
        if let body = answers.get(key) { return Self.respond(body, query, name: "plazo-\(board.rawValue)-trend") }
        var series: [DashboardTrendResponse.Series] = []
        var order: [String] = []
        var byKey: [String: Int] = [:]
        var validX: [String] = []
        for r in answering {
            // A release that cannot answer this board's breakdown is skipped; one that can always
            // has at least one series.
            guard let answer = try? Self.answer(board, release: r.release, isPublic: r.isPublic, selection: "requested", query: query, context: context) else { continue }
            for s in answer.series {
                for p in s.points {
                    if !validX.contains(p.x) { validX.append(p.x) }
                    if let x = query.x, x != p.x { continue }
                    let k = "\(s.name)|\(s.group?.description ?? "")|\(p.x)"
                    if byKey[k] == nil {
                        byKey[k] = series.count
                        order.append(k)
                        series.append(DashboardTrendResponse.Series(
                            name: s.name, title: s.title, unit: s.unit, xAxis: s.xAxis, x: p.x, day: p.day, label: p.label,
                            group: s.group, groupLabel: s.groupLabel, points: []))
                    }
                    series[byKey[k]!].points.append(DashboardTrendResponse.Point(
                        releaseID: r.release.metadata.id, releaseTitle: r.release.metadata.title, cutoff: r.release.metadata.cutoff,
                        value: p.value, interval: p.interval, status: p.status, statusText: p.statusText, reliable: p.reliable,
                        observedUntil: p.observedUntil, denominator: p.denominator))
                }
            }
        }
        if let x = query.x, series.isEmpty {
            throw APIError(.badRequest, "invalid_parameter", text.invalidValue(Self.echo(x), parameter: "x", valid: validX))
        }
        let level = answering.last!.release.metadata.confidenceLevel
        let answer = DashboardTrendResponse(
            metric: board.rawValue, title: text.title(board), lang: query.lang.rawValue, filters: query.echoed,
            intervalNote: text.intervalNote(level: level), series: series)
        let body = query.svg ? Array(DashboardChart.svg(answer).utf8) : query.csv ? Self.csv(answer) : try encodeJSON(answer)
        answers.put(key, body)
        return Self.respond(body, query, name: "plazo-\(board.rawValue)-trend")
    }

    // MARK: - Responses

    /// Answers vary with the language and format negotiated from these headers.
    static let varyHeaders: HTTPFields = [.vary: "Accept, Accept-Language, Authorization"]

    static func respond(_ body: [UInt8], csv: Bool, name: String) -> Response {
        guard csv else { return jsonResponse(.ok, bytes: body, headers: varyHeaders) }
        var headers = varyHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "inline; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
