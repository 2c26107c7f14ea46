import Foundation
import PlazoReleases

/// A published release a reader may read, and whether it is public.
public struct DashboardRelease: Sendable {
    /// The release, decoded.
    public var release: Release
    /// Whether the steward made it public (readable without a token).
    public var isPublic: Bool

    /// A readable release.
    public init(release: Release, isPublic: Bool) {
        self.release = release
        self.isPublic = isPublic
    }

    var id: Int64 { release.metadata.id }
}

/// Who reads a dashboard, as far as the answers differ: which releases, and which links.
public struct DashboardReader: Sendable {
    /// Every published release (a token of the dashboards' role), or the public ones only.
    public var readsEveryRelease: Bool
    /// Whether the answers link to the release document and Data Package of a non-public
    /// release (a researcher's token); a public release's are linked for everyone.
    public var readsReleaseTables: Bool

    /// A reader.
    public init(readsEveryRelease: Bool, readsReleaseTables: Bool) {
        self.readsEveryRelease = readsEveryRelease
        self.readsReleaseTables = readsReleaseTables
    }
}

/// The release a board answers from, and why that one.
public struct DashboardSelection: Sendable {
    /// The release.
    public var release: DashboardRelease
    /// `requested` (named by `release=`) or `default` (the newest that can answer).
    public var reason: String
}

/// The oversight bodies' dashboards (`docs/api-guide.md`, "Dashboards"), answered from
/// **published releases only** (post-processing of their noisy counts: no budget is spent and no
/// case data is read). Every function is a pure function of its inputs: the caller reads the
/// releases the reader may read (newest first) and renders the answer (JSON, ``DashboardCSV``,
/// ``DashboardChart``). An answer is a deterministic function of the release and the query (the
/// simulation seed is fixed by both), so a caller may cache it by the release and
/// ``DashboardQuery/key``.
public enum Dashboards {
    // MARK: - Choosing the release

    /// Links to what the reader may read: the release document and its Data Package, for a
    /// researcher or for a public release; nothing otherwise (an oversight token reads the
    /// dashboards, not the tables).
    static func links(_ r: DashboardRelease, _ reader: DashboardReader) -> DashboardLinks {
        guard r.isPublic || reader.readsReleaseTables else { return DashboardLinks() }
        return DashboardLinks(release: "/v1/releases/\(r.id)", dataPackage: "/v1/releases/\(r.id)/datapackage")
    }

    /// Whether `release` can answer every filter of `query` for `board`.
    static func canAnswer(_ release: Release, _ board: DashboardBoard, _ query: DashboardQuery) -> Bool {
        if let cohort = query.cohort, !release.metadata.cohorts.contains(cohort),
            !release.tables.indices.contains(where: { t in release.cohortGroups(table: t).contains { $0.label == cohort } }) {
            return false
        }
        return board.series.contains { Dashboard.canAnswer(release, metric: $0, dimensions: query.dimensions, cohort: query.cohort) }
    }

    /// The release to answer `board` from, among `releases` (the readable ones, newest first):
    /// the one named, or the default (the newest that has the requested breakdown and cohort).
    /// `anyPublished` says whether any release is published at all, public or not; it is asked
    /// only when a public reader finds none.
    public static func select(
        _ board: DashboardBoard, _ query: DashboardQuery, releases: [DashboardRelease], reader: DashboardReader,
        anyPublished: () -> Bool
    ) throws(DashboardError) -> DashboardSelection {
        let text = query.text
        if let id = query.releaseID {
            if let hit = releases.first(where: { $0.id == id }) { return DashboardSelection(release: hit, reason: "requested") }
            // To a public reader, any release that is not a readable one is refused alike, so the
            // answer says nothing of whether it exists.
            if !reader.readsEveryRelease { throw .notPublic(text.notPublic(id)) }
            throw .releaseNotFound(text.releaseNotFound(String(id), valid: releases.map(\.id)))
        }
        guard !releases.isEmpty else {
            // Releases exist but none is public: the caller needs the role, not a wait.
            if !reader.readsEveryRelease, anyPublished() { throw .notPublic(text.noPublicRelease()) }
            throw .noRelease(text.noRelease())
        }
        guard let hit = releases.first(where: { canAnswer($0.release, board, query) }) else {
            throw .unanswerable(text.unanswerable(breakdowns: breakdownChoices(board, releases.map(\.release), text: text)), cause: nil)
        }
        return DashboardSelection(release: hit, reason: "default")
    }

    /// The breakdowns the releases offer for `board`, as `release 3: state+offence, …`.
    static func breakdownChoices(_ board: DashboardBoard, _ releases: [Release], text: DashboardText) -> [String] {
        releases.prefix(5).map { r in
            let dims = board.series.flatMap { Dashboard.breakdowns(r, metric: $0) }
            var unique: [String] = []
            for d in dims {
                let s = d.isEmpty ? "—" : d.map(DashboardQuery.parameterName).joined(separator: "+")
                if !unique.contains(s) { unique.append(s) }
            }
            // Breakdowns pooled by report year, marked so: they answer without a quarter as cohort.
            for d in board.series.flatMap({ Dashboard.yearBreakdowns(r, metric: $0) }) {
                let s = (d.isEmpty ? "—" : d.map(DashboardQuery.parameterName).joined(separator: "+")) + " (\(text.byYear()))"
                if !unique.contains(s) { unique.append(s) }
            }
            return "release \(r.metadata.id) (\(r.metadata.cohorts.joined(separator: ","))): " + unique.joined(separator: ", ")
        }
    }

    // MARK: - GET /v1/dashboards

    /// The dashboards, their series, the releases that can answer each (with cohorts and
    /// breakdowns), and every filter with its values and labels.
    public static func index(_ query: DashboardQuery, releases: [DashboardRelease], reader: DashboardReader) -> DashboardIndexResponse {
        let text = query.text
        let name = DashboardQuery.parameterName
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
                    for d in dims.map({ $0.map(name) }) where !unique.contains(d) { unique.append(d) }
                    var byYear: [[String]] = []
                    for d in b.series.flatMap({ Dashboard.yearBreakdowns(r.release, metric: $0) }).map({ $0.map(name) })
                    where !byYear.contains(d) { byYear.append(d) }
                    return DashboardIndexResponse.ReleaseChoice(
                        id: r.id, title: r.release.metadata.title, cutoff: r.release.metadata.cutoff,
                        cohorts: r.release.metadata.cohorts, isPublic: r.isPublic, breakdowns: unique, breakdownsByYear: byYear,
                        links: links(r, reader))
                },
                defaultRelease: choices.first?.id)
        }
        var cohorts: [String] = []
        for r in releases { for c in r.release.metadata.cohorts where !cohorts.contains(c) { cohorts.append(c) } }
        var filters = BreakdownDimension.allCases.map { d in
            DashboardIndexResponse.Filter(
                name: name(d), title: text.dimensionName(d), dimension: d.rawValue, multiple: true,
                values: d.codes.map { DashboardIndexResponse.FilterValue(code: $0, label: text.valueLabel(d, $0)) })
        }
        filters.append(DashboardIndexResponse.Filter(
            name: "cohort", title: text.cohortName(), dimension: nil, multiple: false,
            values: cohorts.sorted().map { DashboardIndexResponse.FilterValue(code: $0, label: $0) }))
        filters.append(DashboardIndexResponse.Filter(
            name: "release", title: text.releaseName(), dimension: nil, multiple: false,
            values: releases.map { DashboardIndexResponse.FilterValue(code: "\($0.id)", label: $0.release.metadata.title) }))
        let level = releases.first?.release.metadata.confidenceLevel
        return DashboardIndexResponse(
            lang: query.lang.rawValue, dashboards: boards, filters: filters, parameters: DashboardQuery.parameters,
            defaultRelease: text.defaultRule(), intervalNote: level.map(text.intervalNote))
    }

    // MARK: - GET /v1/dashboards/{metric}

    /// The answer of `board` from the selected release: every series of the board for the
    /// filtered cases (one per comparison value).
    public static func answer(
        _ board: DashboardBoard, from selection: DashboardSelection, query: DashboardQuery, reader: DashboardReader
    ) throws(DashboardError) -> DashboardResponse {
        let text = query.text
        let release = selection.release.release
        let level = release.metadata.confidenceLevel
        var series: [DashboardSeriesJSON] = []
        var problem: String?
        for group in query.groups {
            let groupEcho: [String: String]? = query.comparison.map { (d, _) in [DashboardQuery.parameterName(d): group[d]!] }
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
            throw .unanswerable(text.unanswerable(breakdowns: breakdownChoices(board, [release], text: text)), cause: problem)
        }
        return DashboardResponse(
            metric: board.rawValue, title: text.title(board), description: text.description(board), lang: query.lang.rawValue,
            filters: query.echoed,
            release: DashboardReleaseRef(
                id: release.metadata.id, title: release.metadata.title, cutoff: release.metadata.cutoff,
                cohorts: release.metadata.cohorts, confidenceLevel: level, isPublic: selection.release.isPublic,
                selection: selection.reason, defaultRule: text.defaultRule(), links: links(selection.release, reader)),
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
}
