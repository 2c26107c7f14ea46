import Foundation
import PlazoPrivacy

/// A chart-ready metric of a release (the oversight bodies' dashboards).
public enum DashboardMetric: String, CaseIterable, Sendable, Codable {
    /// Share of cases with no first decision yet, by day since report (x = day: 30 … 730).
    case noDecisionCurve = "no_decision_curve"
    /// Cumulative incidence of charge (Aalen–Johansen), by day (x = day).
    case chargeIncidenceCurve = "charge_incidence_curve"
    /// Cumulative incidence of closure without charge, by day (x = day).
    case closureIncidenceCurve = "closure_incidence_curve"
    /// Median days from report to first decision (x = cohort).
    case medianDaysToFirstDecision = "median_days_to_first_decision"
    /// Share of the cohort reaching at least each stage (x = stage, from `referred`).
    case funnelShare = "funnel_share"
    /// Conversion from the previous stage (x = stage).
    case stageConversion = "stage_conversion"
    /// Outcomes as shares of charged cases (x = outcome).
    case dispositionShare = "disposition_share"
    /// Open cases at the cutoff by age band (x = band; counts).
    case backlogByAge = "backlog_by_age"
    /// Share of open cases that are suspended (x = cohort).
    case suspendedShare = "suspended_share"
    /// Share of cases whose victim had a first update, by day (x = day).
    case updatedByCurve = "updated_by_curve"
    /// Median days from report to the first victim update (x = cohort).
    case medianDaysToFirstUpdate = "median_days_to_first_update"
    /// Share of open cases without any contact in the last 90 days (x = cohort).
    case noUpdate90dShare = "no_update_90d_share"

    /// The table kind the metric is derived from, and the estimate name.
    var source: (kind: TableKind, estimate: String, xIsCohort: Bool) {
        switch self {
        case .noDecisionCurve: (.timeToFirstDecision, "no_decision", false)
        case .chargeIncidenceCurve: (.timeToFirstDecision, "cumulative_incidence_charge", false)
        case .closureIncidenceCurve: (.timeToFirstDecision, "cumulative_incidence_closure", false)
        case .medianDaysToFirstDecision: (.timeToFirstDecision, "median_days_to_first_decision", true)
        case .funnelShare: (.attrition, "reached_share", false)
        case .stageConversion: (.attrition, "conversion_from_previous", false)
        case .dispositionShare: (.dispositions, "share_of_charged", false)
        case .backlogByAge: (.backlog, "open_by_age", false)
        case .suspendedShare: (.backlog, "suspended_share", true)
        case .updatedByCurve: (.victimUpdateTime, "updated_by", false)
        case .medianDaysToFirstUpdate: (.victimUpdateTime, "median_days_to_first_update", true)
        case .noUpdate90dShare: (.victimUpdateRecency, "share_no_update_90d", true)
        }
    }

    /// The unit of the values (`proportion`, `days`, `cases`).
    public var unit: String {
        Derivation.layout(source.kind).first { $0.name == source.estimate }!.unit
    }

    /// Whether the x axis is the cohort (otherwise a day, stage, outcome or band).
    public var xIsCohort: Bool { source.xIsCohort }
}

/// One point of a dashboard series. `value`, `ciLow`, `ciHigh` are nil when undefined (no cases,
/// a median not reached by day 730, an unbounded interval end).
public struct DashboardPoint: Sendable, Codable, Hashable {
    /// The x label (a day such as `"365"`, a stage, an outcome, an age band, or a cohort `2025Q1`).
    public var x: String
    /// The estimate.
    public var value: Double?
    /// Interval low at the release's confidence level.
    public var ciLow: Double?
    /// Interval high.
    public var ciHigh: Double?
    /// The release it came from.
    public var releaseID: Int64
    /// Whether there is a value, and why not (`beyond_follow_up`, `not_reached`, `undefined`).
    public var status: EstimateStatus
    /// For curves and medians: the last horizon (days) within follow-up.
    public var observedUntil: Int?
    /// Whether the interval is narrow enough to read (``Reliability``).
    public var reliable: Bool
}

/// Answers dashboard queries from a stored release (post-processing only: no budget, no data).
public enum Dashboard {
    /// The series of `metric` for the cases matching `filter` (breakdown dimension → code label,
    /// e.g. `[.state: "09"]`), optionally restricted to one cohort (`"2025Q1"`; ignored for metrics
    /// whose x axis is the cohort; nil pools all cohorts of the release).
    ///
    /// The release table used is the one of the metric's kind whose breakdown covers the filter
    /// with the fewest cells. When the selection is exactly one stored group, its stored estimates
    /// are returned; otherwise the noisy counts of the matching groups are summed (post-processing)
    /// and the estimates and their simulated intervals are computed from the sum, with noise of
    /// k·σ² for k summed cells and a seed fixed by the release and the query, so the same query
    /// always returns the same numbers.
    public static func series(
        _ release: Release, metric: DashboardMetric, filter: [BreakdownDimension: String] = [:], cohort: String? = nil
    ) throws(ReleaseError) -> [DashboardPoint] {
        let source = metric.source
        let candidates = release.tables.indices.filter { t in
            release.tables[t].info.kind == source.kind && Set(filter.keys).isSubset(of: release.tables[t].info.breakdown)
        }
        guard let t = candidates.min(by: { release.tables[$0].info.groupsPerCohort < release.tables[$1].info.groupsPerCohort }) else {
            throw .invalidQuery("release \(release.metadata.id) has no \(source.kind.rawValue) table broken down by \(filter.keys.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        let info = release.tables[t].info
        var wanted: [Int?] = []  // code index per breakdown dimension, nil = all
        for d in info.breakdown {
            if let label = filter[d] {
                guard let i = d.codes.firstIndex(of: label) else { throw .invalidQuery("\"\(label)\" is not a code of \(d.rawValue)") }
                wanted.append(i)
            } else {
                wanted.append(nil)
            }
        }
        let cohortIndices: [Int]
        if let cohort, !source.xIsCohort {
            guard let i = release.metadata.cohorts.firstIndex(of: cohort) else { throw .invalidQuery("cohort \(cohort) is not in release \(release.metadata.id)") }
            cohortIndices = [i]
        } else {
            cohortIndices = Array(release.metadata.cohorts.indices)
        }
        let estimates = info.estimates.indices.filter { info.estimates[$0].name == source.estimate }
        func groups(cohort c: Int) -> [Int] {
            var result = [c]
            for (d, w) in zip(info.breakdown, wanted) {
                result = result.flatMap { g in (w.map { [$0] } ?? Array(0..<d.cardinality)).map { g * d.cardinality + $0 } }
            }
            return result
        }
        func point(_ x: String, _ e: Estimate) -> DashboardPoint {
            DashboardPoint(x: x, value: e.value.isNaN ? nil : e.value, ciLow: e.low.isNaN ? nil : e.low,
                           ciHigh: e.high.isNaN ? nil : e.high, releaseID: release.metadata.id,
                           status: e.status, observedUntil: e.observedUntil, reliable: e.reliable)
        }
        let query = "\(metric.rawValue)|\(filter.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))"
        if source.xIsCohort {
            return cohortIndices.map { c in
                let e = combined(release, table: t, groups: groups(cohort: c), query: query + "|\(c)")
                return point(release.metadata.cohorts[c], e[estimates[0]])
            }
        }
        let selected = cohortIndices.flatMap(groups(cohort:))
        let e = combined(release, table: t, groups: selected, query: query + "|\(cohortIndices)")
        return estimates.map { point(info.estimates[$0].x, e[$0]) }
    }

    /// The estimates of the union of `groups` of table `t`.
    static func combined(_ release: Release, table t: Int, groups: [Int], query: String) -> [Estimate] {
        let info = release.tables[t].info
        let n = info.estimates.count
        if groups.count == 1 {
            return (0..<n).map { release.estimate(table: t, group: groups[0], estimate: $0) }
        }
        let cells = info.cellLabels.count
        var sum = [Int64](repeating: 0, count: cells)
        for g in groups { for c in 0..<cells { sum[c] += release.tables[t].noisyCounts[g * cells + c] } }
        // A fixed seed per (release, query): FNV-1a of the query mixed with the release seed.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in query.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        let seed = (UInt64(release.metadata.simulationSeed) ?? 0) ^ h
        let simulator = GroupSimulator(
            kind: info.kind, noise: NoiseTable(ReleaseEngine.noiseDistribution(info), sumOf: groups.count),
            replicates: release.metadata.simulationReplicates, confidence: release.metadata.confidenceLevel)
        var out = [Double](repeating: .nan, count: 3 * n)
        var rng = SimulationRNG(seed: seed)
        let followUp = release.followUp(table: t, groups: groups)
        sum.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { simulator.run(s, followUp: followUp, rng: &rng, out: $0) }
        }
        return (0..<n).map {
            Estimate.assess(info.estimates[$0], value: out[3 * $0], low: out[3 * $0 + 1], high: out[3 * $0 + 2], followUp: followUp)
        }
    }
}
