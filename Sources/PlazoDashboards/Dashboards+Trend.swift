import Foundation
import PlazoReleases

// GET /v1/dashboards/{metric}/trend: the same figures across every readable release that can
// answer, oldest first.

extension Dashboards {
    /// The releases a trend of `board` reads, oldest first: those among `releases` (the readable
    /// ones, newest first; only the one named by `release=`, if any) that can answer `query`.
    /// `anyPublished` says whether any release is published at all, public or not; it is asked
    /// only when a public reader finds none.
    public static func trendReleases(
        _ board: DashboardBoard, _ query: DashboardQuery, releases: [DashboardRelease], reader: DashboardReader,
        anyPublished: () -> Bool
    ) throws(DashboardError) -> [DashboardRelease] {
        let text = query.text
        var releases = releases
        if let id = query.releaseID { releases = releases.filter { $0.id == id } }
        let answering = Array(releases.filter { canAnswer($0.release, board, query) }.reversed())
        guard answering.isEmpty else { return answering }
        if releases.isEmpty {
            if !reader.readsEveryRelease, query.releaseID != nil || anyPublished() {
                throw .notPublic(query.releaseID.map(text.notPublic) ?? text.noPublicRelease())
            }
            throw query.releaseID == nil ? .noRelease(text.noRelease()) : .releaseNotFound(text.noRelease())
        }
        throw .unanswerable(text.unanswerable(breakdowns: breakdownChoices(board, releases.map(\.release), text: text)), cause: nil)
    }

    /// The trend of `board` across `releases` (from ``trendReleases(_:_:releases:reader:anyPublished:)``,
    /// oldest first): per series (and comparison value) and per x (or only `x=`), the value in
    /// each release.
    public static func trend(
        _ board: DashboardBoard, _ query: DashboardQuery, releases: [DashboardRelease], reader: DashboardReader
    ) throws(DashboardError) -> DashboardTrendResponse {
        let text = query.text
        var series: [DashboardTrendResponse.Series] = []
        var byKey: [String: Int] = [:]
        var validX: [String] = []
        for r in releases {
            // A release that cannot answer this board's breakdown is skipped; one that can always
            // has at least one series.
            let selection = DashboardSelection(release: r, reason: "requested")
            guard let answer = try? Self.answer(board, from: selection, query: query, reader: reader) else { continue }
            for s in answer.series {
                for p in s.points {
                    if !validX.contains(p.x) { validX.append(p.x) }
                    if let x = query.x, x != p.x { continue }
                    let k = "\(s.name)|\(s.group?.description ?? "")|\(p.x)"
                    if byKey[k] == nil {
                        byKey[k] = series.count
                        series.append(DashboardTrendResponse.Series(
                            name: s.name, title: s.title, unit: s.unit, xAxis: s.xAxis, x: p.x, day: p.day, label: p.label,
                            group: s.group, groupLabel: s.groupLabel, points: []))
                    }
                    series[byKey[k]!].points.append(DashboardTrendResponse.Point(
                        releaseID: r.id, releaseTitle: r.release.metadata.title, cutoff: r.release.metadata.cutoff,
                        value: p.value, interval: p.interval, status: p.status, statusText: p.statusText, reliable: p.reliable,
                        observedUntil: p.observedUntil, denominator: p.denominator))
                }
            }
        }
        if let x = query.x, series.isEmpty {
            throw .invalidParameter(text.invalidValue(DashboardQuery.echo(x), parameter: "x", valid: validX))
        }
        guard let newest = releases.last else { throw .noRelease(text.noRelease()) }
        let level = newest.release.metadata.confidenceLevel
        return DashboardTrendResponse(
            metric: board.rawValue, title: text.title(board), lang: query.lang.rawValue, filters: query.echoed,
            intervalNote: text.intervalNote(level: level), series: series)
    }
}
