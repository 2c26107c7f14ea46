import Foundation
import PlazoCases
import PlazoModel
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
    /// Time to charge: the cumulative incidence of charge by day 90, 180, 365 and 730 (x = day),
    /// the points of ``chargeIncidenceCurve`` that answer "how many were charged within a year".
    case chargeIncidenceAt = "charge_incidence"
    /// Time to charge: the day by which 10 %, 25 % and 50 % of the cohort had been charged
    /// (x = share), read off the charge incidence curve and its band; absent ("not reached by
    /// day X") where the curve does not reach the share within follow-up.
    case daysToChargedShare = "days_to_charged_share"
    /// Time to charge, counted directly: the share of the cohort charged within 90, 180, 365 and
    /// 730 days (x = day), from the `charge_by_horizon` table, published only at horizons every case
    /// of the cohort has been followed. Far less noise than ``chargeIncidenceAt`` at small volumes.
    case chargedWithin = "charged_within"

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
        case .chargeIncidenceAt: (.timeToFirstDecision, "cumulative_incidence_charge", false)
        case .daysToChargedShare: (.timeToFirstDecision, "cumulative_incidence_charge", false)
        case .chargedWithin: (.chargeByHorizon, "charged_within", false)
        }
    }

    /// The unit of the values (`proportion`, `days`, `cases`).
    public var unit: String {
        self == .daysToChargedShare ? "days" : Derivation.layout(source.kind).first { $0.name == source.estimate }!.unit
    }

    /// The table kind the metric is read from.
    public var tableKind: TableKind { source.kind }

    /// What the x axis holds: `day` (a horizon in days), `cohort`, `stage`, `outcome`,
    /// `age_band` or `share` (a share of the cohort, for ``daysToChargedShare``).
    public var xAxis: String {
        if xIsCohort { return "cohort" }
        switch self {
        case .noDecisionCurve, .chargeIncidenceCurve, .closureIncidenceCurve, .updatedByCurve, .chargeIncidenceAt, .chargedWithin: return "day"
        case .funnelShare, .stageConversion: return "stage"
        case .dispositionShare: return "outcome"
        case .backlogByAge: return "age_band"
        case .daysToChargedShare: return "share"
        default: return "x"
        }
    }

    /// The horizons (days) of ``chargeIncidenceAt``.
    public static let chargeHorizons = [90, 180, 365, 730]

    /// The shares of ``daysToChargedShare``, as x labels.
    public static let chargedShares = ["0.10", "0.25", "0.50"]

    /// Whether the x axis is the cohort (otherwise a day, stage, outcome or band).
    public var xIsCohort: Bool { source.xIsCohort }
}

/// A noisy count behind a share (the denominator), with its interval; `low`/`high` nil when unbounded.
public struct DashboardCount: Sendable, Codable, Hashable {
    /// The (post-processed, non-negative) noisy count.
    public var value: Double
    /// Interval low.
    public var low: Double?
    /// Interval high.
    public var high: Double?
}

/// One point of a dashboard series. `value`, `ciLow`, `ciHigh` are nil when undefined (no cases,
/// a median not reached by day 730, an unbounded interval end).
public struct DashboardPoint: Sendable, Codable, Hashable {
    /// The x label (a day such as `"365"`, a stage, an outcome, an age band, a share such as
    /// `"0.25"` or a cohort `2025Q1`).
    public var x: String
    /// For a day axis: the horizon as an integer number of days ("by day 365" = within 365 days).
    public var day: Int?
    /// The estimate.
    public var value: Double?
    /// Interval low at the release's confidence level.
    public var ciLow: Double?
    /// Interval high.
    public var ciHigh: Double?
    /// The release it came from.
    public var releaseID: Int64
    /// Whether there is a value, and why not (`beyond_follow_up`, `not_reached`, `undefined`,
    /// `insufficient_data`).
    public var status: EstimateStatus
    /// For curves and medians: the last horizon (days) within follow-up.
    public var observedUntil: Int?
    /// Whether the interval is narrow enough to read (``Reliability``).
    public var reliable: Bool
    /// For shares, medians and curve points: the noisy number of cases the figure is a share of
    /// (the cohort, the charged cases, the open cases, or the previous stage); nil for counts.
    public var denominator: DashboardCount?
}

/// Answers dashboard queries from a stored release (post-processing only: no budget, no data).
public enum Dashboard {
    /// The breakdowns a release can answer `metric` for: each is the dimension set of one of its
    /// tables of the metric's kind; any subset of one of them can be filtered on. Empty when the
    /// release has no such table.
    ///
    /// Quarterly tables only: these answer a quarter as `cohort`, and all cohorts together. Tables
    /// pooled by report year are in ``yearBreakdowns(_:metric:)``.
    public static func breakdowns(_ release: Release, metric: DashboardMetric) -> [[BreakdownDimension]] {
        breakdowns(release, metric: metric, pooled: false)
    }

    /// The breakdowns of `metric`'s tables pooled by report year in `release` (they answer a
    /// breakdown filter without `cohort`, by default, and a year as `cohort`).
    public static func yearBreakdowns(_ release: Release, metric: DashboardMetric) -> [[BreakdownDimension]] {
        breakdowns(release, metric: metric, pooled: true)
    }

    static func breakdowns(_ release: Release, metric: DashboardMetric, pooled: Bool) -> [[BreakdownDimension]] {
        var seen = Set<[BreakdownDimension]>()
        return release.tables.compactMap { t in
            guard t.info.kind == metric.tableKind, (t.info.pooling != nil) == pooled else { return nil }
            let dims = t.info.breakdown.sorted()
            return seen.insert(dims).inserted ? dims : nil
        }
    }

    /// Whether `release` can answer `metric` broken down by (at least) `dimensions`, for `cohort`
    /// (a quarter, a year, or nil for all cohorts): exactly when ``table(_:metric:filter:cohort:)``
    /// finds a table.
    public static func canAnswer(
        _ release: Release, metric: DashboardMetric, dimensions: Set<BreakdownDimension>, cohort: String? = nil
    ) -> Bool {
        var filter: [BreakdownDimension: String] = [:]
        for d in dimensions { filter[d] = d.codes[0] }
        return (try? table(release, metric: metric, filter: filter, cohort: cohort)) != nil
    }

    /// The series of `metric` for the cases matching `filter` (breakdown dimension → code label,
    /// e.g. `[.state: "09"]`), optionally restricted to one cohort (`"2025Q1"`; for metrics whose
    /// x axis is the cohort, the one point of that cohort; nil pools all cohorts of the release).
    ///
    /// The release table used is chosen by ``table(_:metric:filter:cohort:)`` (a table pooled by
    /// report year for breakdown filters when the release has one). When the selection is exactly one stored group, its stored estimates
    /// are returned; otherwise the noisy counts of the matching groups are summed (post-processing)
    /// and the estimates and their simulated intervals are computed from the sum, with noise of
    /// k·σ² for k summed cells and a seed fixed by the release and the query, so the same query
    /// always returns the same numbers.
    public static func series(
        _ release: Release, metric: DashboardMetric, filter: [BreakdownDimension: String] = [:], cohort: String? = nil
    ) throws(ReleaseError) -> [DashboardPoint] {
        let source = metric.source
        let t = try table(release, metric: metric, filter: filter, cohort: cohort)
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
        // The outermost axis: the release's cohorts, or the table's pooled groups (report years).
        let axis = release.cohortGroups(table: t)
        let cohortIndices: [Int]
        if let cohort {
            guard let i = axis.firstIndex(where: { $0.label == cohort }) else { throw .invalidQuery("cohort \(cohort) is not in release \(release.metadata.id)") }
            cohortIndices = [i]
        } else {
            cohortIndices = Array(axis.indices)
        }
        func groups(cohort c: Int) -> [Int] {
            var result = [c]
            for (d, w) in zip(info.breakdown, wanted) {
                result = result.flatMap { g in (w.map { [$0] } ?? Array(0..<d.cardinality)).map { g * d.cardinality + $0 } }
            }
            return result
        }
        let query = "\(source.kind.rawValue)|\(filter.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ","))"
        if source.xIsCohort {
            return cohortIndices.flatMap { c in
                let selected = groups(cohort: c)
                let e = combined(release, table: t, groups: selected, query: query + "|\(c)")
                return points(metric, info: info, estimates: e, release: release, followUp: release.followUp(table: t, groups: selected))
                    .map { var p = $0; p.x = axis[c].label; return p }
            }
        }
        let selected = cohortIndices.flatMap(groups(cohort:))
        if info.kind == .chargeByHorizon, cohortIndices.count > 1 {
            // "Charged within h days" over several cohorts is a share of the cohorts every case of
            // which has been followed h days: each horizon pools its own cohorts (the most recent
            // ones drop out of the longer horizons), and says so through its denominator.
            return ChargeHorizons.horizons.map { h in
                let complete = cohortIndices.filter { c in release.followUp(table: t, groups: groups(cohort: c)).coversEveryCase(horizon: h) }
                guard !complete.isEmpty else {
                    return DashboardPoint(
                        x: "\(h)", day: h, value: nil, ciLow: nil, ciHigh: nil, releaseID: release.metadata.id, status: .beyondFollowUp,
                        observedUntil: release.followUp(table: t, groups: selected).lastCompleteHorizon, reliable: false, denominator: nil)
                }
                let subset = complete.flatMap(groups(cohort:))
                let e = combined(release, table: t, groups: subset, query: query + "|\(complete)")
                let all = points(metric, info: info, estimates: e, release: release, followUp: release.followUp(table: t, groups: subset))
                return all.first { $0.x == "\(h)" }!
            }
        }
        // The seed of a pooled selection depends on the table kind and the groups only, not on the
        // metric: every series of one selection is read off the same simulated estimates.
        let e = combined(release, table: t, groups: selected, query: query + "|\(cohortIndices)")
        return points(metric, info: info, estimates: e, release: release, followUp: release.followUp(table: t, groups: selected))
    }

    /// The table that answers `metric` for `filter` and `cohort` (see ``series(_:metric:filter:cohort:)``):
    /// among the tables of the metric's kind broken down by (at least) the filter's dimensions,
    /// - a `cohort` that is a report year (`2025`) is answered only by a table pooled by year that
    ///   has it, a quarter (`2025Q1`) only by a quarterly table;
    /// - with no `cohort` and a breakdown filter (a state, say), a table pooled by year is
    ///   preferred: at realistic volumes a state's quarter holds tens of cases, too few to read, and
    ///   its year four times as many (`docs/metrics.md` §5.1);
    /// - otherwise the quarterly table; among equals, the one with the fewest cells per cohort.
    public static func table(
        _ release: Release, metric: DashboardMetric, filter: [BreakdownDimension: String] = [:], cohort: String? = nil
    ) throws(ReleaseError) -> Int {
        let kind = metric.source.kind
        let candidates = release.tables.indices.filter { t in
            release.tables[t].info.kind == kind && Set(filter.keys).isSubset(of: release.tables[t].info.breakdown)
        }
        func fewest(_ ts: [Int]) -> Int? { ts.min { release.tables[$0].info.groupsPerCohort < release.tables[$1].info.groupsPerCohort } }
        let pooled = candidates.filter { release.tables[$0].info.pooling != nil }
        let quarterly = candidates.filter { release.tables[$0].info.pooling == nil }
        let chosen: Int?
        if let cohort, Quarter(cohort) == nil {
            chosen = fewest(pooled.filter { t in release.cohortGroups(table: t).contains { $0.label == cohort } })
        } else if cohort == nil, !filter.isEmpty, let p = fewest(pooled) {
            chosen = p
        } else {
            chosen = fewest(quarterly)
        }
        guard let t = chosen else {
            let by = filter.keys.map(\.rawValue).sorted().joined(separator: ", ")
            if let cohort, Quarter(cohort) == nil {
                throw .invalidQuery("release \(release.metadata.id) has no \(kind.rawValue) table pooled by year with \(cohort)\(by.isEmpty ? "" : " broken down by \(by)")")
            }
            throw .invalidQuery("release \(release.metadata.id) has no \(kind.rawValue) table broken down by \(by)")
        }
        return t
    }

    /// How the answer to `metric` for `filter` and `cohort` pools cohorts: `.year` when it reads a
    /// table pooled by report year (the dashboards say so), nil for quarterly figures.
    public static func pooling(
        _ release: Release, metric: DashboardMetric, filter: [BreakdownDimension: String] = [:], cohort: String? = nil
    ) -> CohortPooling? {
        guard let t = try? table(release, metric: metric, filter: filter, cohort: cohort) else { return nil }
        return release.tables[t].info.pooling
    }

    /// The points of `metric` from one selection's estimates (`info.estimates` order).
    static func points(
        _ metric: DashboardMetric, info: ReleasedTableInfo, estimates e: [Estimate], release: Release, followUp: FollowUp
    ) -> [DashboardPoint] {
        let descriptors = info.estimates
        func index(_ name: String, _ x: String = "") -> Int? { descriptors.firstIndex { $0.name == name && $0.x == x } }
        func count(_ i: Int?) -> DashboardCount? {
            guard let i, e[i].value.isFinite else { return nil }
            return DashboardCount(value: e[i].value, low: e[i].low.isFinite ? e[i].low : nil, high: e[i].high.isFinite ? e[i].high : nil)
        }
        func point(_ x: String, _ est: Estimate, denominator: DashboardCount?) -> DashboardPoint {
            let day = metric.xAxis == "day" ? Int(x) : nil
            return DashboardPoint(
                x: x, day: day, value: est.value.isNaN ? nil : est.value, ciLow: est.low.isNaN ? nil : est.low,
                ciHigh: est.high.isNaN ? nil : est.high, releaseID: release.metadata.id,
                status: est.status, observedUntil: est.observedUntil, reliable: est.reliable, denominator: denominator)
        }
        // The denominator of each kind's shares.
        let base: DashboardCount? = switch info.kind {
        case .timeToFirstDecision, .victimUpdateTime: count(index("cases"))
        case .attrition: count(index("reached_count", CaseStage.reported.label))
        case .dispositions: count(index("charged_cases"))
        case .backlog, .victimUpdateRecency: count(index("open_cases"))
        case .chargeByHorizon: count(index("cases"))
        }
        let source = metric.source
        switch metric {
        case .chargeIncidenceAt:
            return DashboardMetric.chargeHorizons.compactMap { h in
                index(source.estimate, "\(h)").map { point("\(h)", e[$0], denominator: base) }
            }
        case .daysToChargedShare:
            let curve = descriptors.indices.filter { descriptors[$0].name == source.estimate }
            let cases = index("cases").map { e[$0] } ?? Estimate(value: .nan, low: .nan, high: .nan)
            return DashboardMetric.chargedShares.map { share in
                let days = daysToReach(Double(share)!, curve: curve.map { e[$0] }, edges: curve.map { Int(descriptors[$0].x)! }, followUp: followUp)
                return point(share, Estimate.guarded(days, denominator: cases), denominator: base)
            }
        case .stageConversion:
            let stages = CaseStage.allCases
            return stages.dropFirst().map { stage in
                let previous = stages[stages.firstIndex(of: stage)! - 1]
                return point(stage.label, e[index(source.estimate, stage.label)!], denominator: count(index("reached_count", previous.label)))
            }
        case .backlogByAge:
            return descriptors.indices.filter { descriptors[$0].name == source.estimate }.map { point(descriptors[$0].x, e[$0], denominator: nil) }
        default:
            return descriptors.indices.filter { descriptors[$0].name == source.estimate }.map { point(descriptors[$0].x, e[$0], denominator: base) }
        }
    }

    /// The first day by which the cumulative incidence `curve` (its points at `edges`, 0 at day 0,
    /// linear in between) reaches `share`, with an interval read off the curve's band: the
    /// earliest day is where the band's upper end reaches the share, the latest where its lower
    /// end does (absent, i.e. unbounded, when the lower end stays below it within follow-up). This
    /// is the inversion of pointwise intervals that the medians use (Brookmeyer & Crowley 1982;
    /// `docs/metrics.md` §3.4), applied to 1 − F. Absent, with status `not_reached` and the last
    /// day observed, when the curve itself does not reach the share within follow-up.
    static func daysToReach(_ share: Double, curve: [Estimate], edges: [Int], followUp: FollowUp) -> Estimate {
        guard let until = followUp.lastPublishedHorizon else {
            return Estimate(value: .nan, low: .nan, high: .nan, status: .beyondFollowUp)
        }
        // 1 − F/(2·share) falls from 1 and is ≤ ½ exactly where F ≥ share; the affine map keeps
        // the linear interpolation, so the median convention gives the first crossing.
        func crossing(_ values: [Double]) -> Double {
            let within = zip(values, edges).filter { $0.1 <= until }
            let mapped = within.map { $0.0.isNaN ? Double.nan : 1 - $0.0 / (2 * share) }
            return Derivation.median(curve: mapped, edges: within.map(\.1)) ?? .nan
        }
        let value = crossing(curve.map(\.value))
        let low = crossing(curve.map { $0.high.isNaN ? $0.value : $0.high })
        let high = value.isNaN ? Double.nan : crossing(curve.map { $0.low.isNaN ? 0 : $0.low })
        return Estimate(
            value: value, low: low, high: high, status: value.isNaN ? .notReached : .ok, observedUntil: until,
            reliable: Reliability.isReliable(unit: "days", value: value, low: low, high: high))
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
        if let continual = info.continual {
            // Each group's cohort has its own variances (its own step): they add up.
            var bands = [Double](repeating: 0, count: ChargeHorizons.horizons.count), size = 0.0
            for g in groups {
                let cohort = continual.cohorts[g / info.groupsPerCohort]
                for b in bands.indices { bands[b] += cohort.cellStandardDeviations[b] * cohort.cellStandardDeviations[b] }
                size += cohort.sizeVariance
            }
            let followUp = release.followUp(table: t, groups: groups)
            let out = ContinualDerivation.run(
                sum, bandVariances: bands, sizeVariance: size, followUp: followUp,
                z: normalQuantile(1 - (1 - release.metadata.confidenceLevel) / 2))
            let assessed = (0..<n).map {
                Estimate.assess(info.estimates[$0], value: out[3 * $0], low: out[3 * $0 + 1], high: out[3 * $0 + 2], followUp: followUp)
            }
            return Estimate.guarded(assessed, kind: info.kind)
        }
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
        let assessed = (0..<n).map {
            Estimate.assess(info.estimates[$0], value: out[3 * $0], low: out[3 * $0 + 1], high: out[3 * $0 + 2], followUp: followUp)
        }
        return Estimate.guarded(assessed, kind: info.kind)
    }
}
