import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoModel
import PlazoReleases
import PlazoStore
import Synchronization

/// The oversight bodies' dashboards: `GET /v1/dashboards` (the metrics) and
/// `GET /v1/dashboards/{metric}` (chart-ready series), answered from **published releases only**
/// (post-processing of their noisy counts: no budget is spent and no case data is read).
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

    /// A dashboard and the release series it shows.
    enum Board: String, CaseIterable {
        case timeToDecision = "time-to-decision"
        case funnel
        case dispositions
        case backlog
        case victimUpdates = "victim-updates"

        var title: String {
            switch self {
            case .timeToDecision: "Time from report to first decision (charge or closure)"
            case .funnel: "Attrition: how far cases get"
            case .dispositions: "Outcomes of charged cases"
            case .backlog: "Open cases at the cutoff"
            case .victimUpdates: "Keeping victims informed"
            }
        }

        var series: [DashboardMetric] {
            switch self {
            case .timeToDecision: [.noDecisionCurve, .chargeIncidenceCurve, .closureIncidenceCurve, .medianDaysToFirstDecision]
            case .funnel: [.funnelShare, .stageConversion]
            case .dispositions: [.dispositionShare]
            case .backlog: [.backlogByAge, .suspendedShare]
            case .victimUpdates: [.updatedByCurve, .medianDaysToFirstUpdate, .noUpdate90dShare]
            }
        }
    }

    /// Query parameters naming a breakdown filter (short and long spellings).
    static let filterParameters: [String: BreakdownDimension] = [
        "state": .state, "offence": .offence, "offence_category": .offence, "age_band": .ageBand, "victim_age_band": .ageBand,
        "channel": .channel, "report_channel": .channel, "agency_type": .agencyType,
    ]

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.get("dashboards", use: index)
        group.get("dashboards/{metric}", use: board)
    }

    /// The dashboards, their series and the filters they take.
    @Sendable func index(request: Request, context: PlazoRequestContext) async throws -> Response {
        try jsonResponse(.ok, DashboardIndexResponse(
            dashboards: Board.allCases.map { b in
                DashboardIndexResponse.Board(
                    metric: b.rawValue, title: b.title, href: "/v1/dashboards/\(b.rawValue)",
                    series: b.series.map { DashboardIndexResponse.Series(name: $0.rawValue, unit: $0.unit, xAxis: Self.xAxis($0)) })
            },
            filters: ["state", "offence", "age_band", "channel", "agency_type", "cohort", "release"]
        ))
    }

    /// One dashboard: every series of the metric for the filtered cases, from the newest release
    /// that can answer (or `?release=ID`). Each point has its value, its interval and the release
    /// it came from.
    @Sendable func board(request: Request, context: PlazoRequestContext) async throws -> Response {
        let name = pathParameter(context, "metric")
        guard let board = Board(rawValue: name) else {
            throw APIError(
                .notFound, "unknown_metric",
                "no dashboard '\(name)'; the dashboards are " + Board.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        // Parse the filters: unknown parameters are refused, so that a misspelt filter is never
        // silently answered with the unfiltered figures.
        var filter: [BreakdownDimension: String] = [:]
        var cohort: String?
        var releaseID: Int64?
        for (key, value) in request.uri.queryParameters {
            let k = String(key)
            let v = String(value).removingPercentEncoding ?? String(value)
            if let dimension = Self.filterParameters[k] {
                guard let code = Self.normalise(v, for: dimension) else {
                    throw APIError(
                        .badRequest, "invalid_filter",
                        "'\(v)' is not a code of \(dimension.rawValue) (see `plazo vocabulary`)"
                    )
                }
                if let previous = filter[dimension], previous != code {
                    throw APIError(.badRequest, "invalid_filter", "\(dimension.rawValue) is given twice")
                }
                filter[dimension] = code
            } else if k == "cohort" {
                guard Self.isQuarter(v) else {
                    throw APIError(.badRequest, "invalid_filter", "cohort must be a report quarter such as 2024Q1")
                }
                cohort = v
            } else if k == "release" {
                guard let id = Int64(v), id > 0 else {
                    throw APIError(.badRequest, "invalid_filter", "release must be a release id")
                }
                releaseID = id
            } else {
                throw APIError(
                    .badRequest, "unknown_parameter",
                    "unknown query parameter '\(k)'; the filters are state, offence, age_band, channel, agency_type, cohort, release"
                )
            }
        }

        // The candidate releases, newest first.
        let candidates: [Int64]
        do {
            // Published releases only: a withdrawn release is not shown, even when named.
            if let releaseID {
                candidates = try cache.engine.status(releaseID: releaseID) == .published ? [releaseID] : []
            } else { candidates = try cache.list().map(\.id).reversed() }
        } catch {
            throw APIError(.serviceUnavailable, "store_unavailable", "the releases could not be read", cause: "\(error)")
        }
        if let releaseID, candidates.isEmpty {
            throw APIError(.notFound, "release_not_found", "no release \(releaseID)")
        }
        guard !candidates.isEmpty else {
            throw APIError(.notFound, "no_release", "no release has been published yet")
        }
        var lastProblem = ""
        let query = filter.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: "&") + "|cohort=\(cohort ?? "")"
        for id in candidates {
            let key = "\(id)|\(board.rawValue)|\(query)"
            if let body = answers.get(key) { return Self.json(body) }
            let release: Release
            do { release = try cache.publishedRelease(id) } catch {
                if case .notFound = error { throw APIError(.notFound, error.code, error.description) }
                throw APIError(.serviceUnavailable, "store_unavailable", "the release could not be read", cause: "\(error)")
            }
            var series: [DashboardResponse.Series] = []
            for metric in board.series {
                do {
                    let points = try Dashboard.series(release, metric: metric, filter: filter, cohort: cohort)
                    series.append(Self.seriesJSON(metric, points, level: release.metadata.confidenceLevel))
                } catch {
                    lastProblem = error.description
                }
            }
            if series.isEmpty { continue }
            var filters: [String: String] = [:]
            for (d, code) in filter { filters[d.rawValue] = code }
            if let cohort { filters["cohort"] = cohort }
            let answer = DashboardResponse(
                metric: board.rawValue, title: board.title, filters: filters,
                release: DashboardResponse.ReleaseRef(
                    id: release.metadata.id, title: release.metadata.title, cutoff: release.metadata.cutoff,
                    cohorts: release.metadata.cohorts, confidenceLevel: release.metadata.confidenceLevel,
                    href: "/v1/releases/\(release.metadata.id)"),
                series: series
            )
            let body = try encodeJSON(answer)
            answers.put(key, body)
            return Self.json(body)
        }
        throw APIError(
            .unprocessableContent, "unanswerable_query",
            "no published release can answer this query" + (lastProblem.isEmpty ? "" : " (\(lastProblem))")
        )
    }

    static func json(_ body: [UInt8]) -> Response { jsonResponse(.ok, bytes: body) }

    static func seriesJSON(_ metric: DashboardMetric, _ points: [DashboardPoint], level: Double) -> DashboardResponse.Series {
        DashboardResponse.Series(
            name: metric.rawValue, unit: metric.unit, xAxis: xAxis(metric),
            points: points.map { p in
                DashboardResponse.Point(
                    x: p.x, value: p.value, interval: DashboardResponse.Interval(low: p.ciLow, high: p.ciHigh, level: level),
                    releaseID: p.releaseID, status: p.status.rawValue, reliable: p.reliable, observedUntil: p.observedUntil)
            }
        )
    }

    static func xAxis(_ metric: DashboardMetric) -> String {
        if metric.xIsCohort { return "cohort" }
        switch metric {
        case .noDecisionCurve, .chargeIncidenceCurve, .closureIncidenceCurve, .updatedByCurve: return "day"
        case .funnelShare, .stageConversion: return "stage"
        case .dispositionShare: return "outcome"
        case .backlogByAge: return "age_band"
        default: return "x"
        }
    }

    /// A filter value as its public code label: states also as `9` or `09`.
    static func normalise(_ value: String, for dimension: BreakdownDimension) -> String? {
        let codes = dimension.codes
        if codes.contains(value) { return value }
        if dimension == .state, let n = Int(value), (1...32).contains(n) { return n < 10 ? "0\(n)" : "\(n)" }
        return codes.first { $0.caseInsensitiveCompare(value) == .orderedSame }
    }

    static func isQuarter(_ text: String) -> Bool {
        text.range(of: #"^[12][0-9]{3}Q[1-4]$"#, options: .regularExpression) != nil
    }
}
