import Foundation
import PlazoCases

/// One derived estimate of a table (per breakdown group): a name, its x position (a horizon in
/// days, a stage, an outcome … or empty) and its unit.
public struct EstimateDescriptor: Sendable, Hashable, Codable {
    /// Machine name, e.g. `cumulative_incidence_charge`.
    public var name: String
    /// Position on its axis, e.g. `"365"` (days) or `"charged"` (stage); empty for a scalar.
    public var x: String
    /// `cases`, `proportion` or `days`.
    public var unit: String

    /// Builds a descriptor.
    public init(name: String, x: String, unit: String) {
        self.name = name
        self.x = x
        self.unit = unit
    }
}

/// Post-processing of noisy tables into derived estimates. Everything here reads only noisy counts
/// (never the data), so it costs no privacy budget (Dwork & Roth 2014, Prop. 2.1).
///
/// Constraints are imposed on results, not on cells (see ``derive(_:_:_:)``): every count
/// estimate is ≥ 0, every share in [0, 1]; curves are built as products and sums of hazards clipped
/// to [0, 1], so survival curves are non-increasing and cumulative incidences non-decreasing by
/// construction; the funnel is a suffix sum of the furthest-stage histogram made non-increasing by
/// a running maximum.
public enum Derivation {
    /// The estimates of a table kind, in storage order.
    public static func layout(_ kind: TableKind) -> [EstimateDescriptor] {
        let closedEdges = (1..<TimeBins.count).map { TimeBins.edges[$0] }
        switch kind {
        case .timeToFirstDecision:
            return [EstimateDescriptor(name: "cases", x: "", unit: "cases")]
                + closedEdges.map { EstimateDescriptor(name: "no_decision", x: "\($0)", unit: "proportion") }
                + closedEdges.map { EstimateDescriptor(name: "cumulative_incidence_charge", x: "\($0)", unit: "proportion") }
                + closedEdges.map { EstimateDescriptor(name: "cumulative_incidence_closure", x: "\($0)", unit: "proportion") }
                + [EstimateDescriptor(name: "median_days_to_first_decision", x: "", unit: "days")]
        case .attrition:
            return CaseStage.allCases.map { EstimateDescriptor(name: "reached_count", x: $0.label, unit: "cases") }
                + CaseStage.allCases.dropFirst().map { EstimateDescriptor(name: "reached_share", x: $0.label, unit: "proportion") }
                + CaseStage.allCases.dropFirst().map { EstimateDescriptor(name: "conversion_from_previous", x: $0.label, unit: "proportion") }
        case .dispositions:
            return [EstimateDescriptor(name: "charged_cases", x: "", unit: "cases")]
                + ChargedOutcome.allCases.map { EstimateDescriptor(name: "share_of_charged", x: $0.label, unit: "proportion") }
        case .backlog:
            return [EstimateDescriptor(name: "open_cases", x: "", unit: "cases"),
                    EstimateDescriptor(name: "suspended_share", x: "", unit: "proportion")]
                + BacklogBands.labels.map { EstimateDescriptor(name: "open_by_age", x: $0, unit: "cases") }
        case .victimUpdateTime:
            return [EstimateDescriptor(name: "cases", x: "", unit: "cases")]
                + closedEdges.map { EstimateDescriptor(name: "updated_by", x: "\($0)", unit: "proportion") }
                + [EstimateDescriptor(name: "median_days_to_first_update", x: "", unit: "days")]
        case .victimUpdateRecency:
            return [EstimateDescriptor(name: "open_cases", x: "", unit: "cases"),
                    EstimateDescriptor(name: "share_no_update_90d", x: "", unit: "proportion")]
        }
    }

    /// Index of the median estimate (intervals by percentiles), if the kind has one.
    static func medianIndex(_ kind: TableKind) -> Int? {
        switch kind {
        case .timeToFirstDecision: 1 + 3 * (TimeBins.count - 1)
        case .victimUpdateTime: 1 + (TimeBins.count - 1)
        default: nil
        }
    }

    /// Computes the estimates of one breakdown group from its noisy counts (`counts.count ==
    /// kind.cellsPerGroup`), writing `layout(kind).count` values to `out`. NaN marks an undefined
    /// estimate (a share of zero cases, a median not reached by day 730).
    ///
    /// Bias control: sums (cases at risk, denominators, funnel counts) use the raw noisy counts,
    /// which are unbiased, and constraints are imposed on the *result* (hazards and shares clipped
    /// to [0, 1], totals to ≥ 0, the funnel made non-increasing). Clipping every cell at 0 first
    /// would add about 0.4σ to each structurally empty cell (a table has many: no censoring in early
    /// bins, no events beyond the follow-up), and that bias would dominate the noise in the curves.
    static func derive(_ kind: TableKind, _ counts: UnsafeBufferPointer<Int64>, _ out: UnsafeMutableBufferPointer<Double>) {
        @inline(__always) func c(_ i: Int) -> Double { Double(counts[i]) }
        @inline(__always) func unit(_ x: Double) -> Double { min(1, max(0, x)) }
        switch kind {
        case .timeToFirstDecision:
            let bins = TimeBins.count
            var atRisk = 0.0
            for i in 0..<(bins * 3) { atRisk += c(i) }
            out[0] = max(0, atRisk)
            var s = 1.0, f1 = 0.0, f2 = 0.0
            var median = Double.nan
            for k in 0..<(bins - 1) {
                let d1 = c(3 * k), d2 = c(3 * k + 1), cens = c(3 * k + 2)
                // Actuarial life table: censored cases count as at risk for half their bin.
                let effective = atRisk - cens / 2
                var h1 = 0.0, h2 = 0.0
                if effective > 0 {
                    h1 = max(0, d1) / effective
                    h2 = max(0, d2) / effective
                    let h = h1 + h2
                    if h > 1 { h1 /= h; h2 /= h }
                }
                let before = s
                f1 += s * h1
                f2 += s * h2
                s *= max(0, 1 - h1 - h2)
                if median.isNaN && s <= 0.5 && before > 0.5 {
                    let lo = Double(TimeBins.edges[k]), hi = Double(TimeBins.edges[k + 1])
                    median = lo + (before - 0.5) / (before - s) * (hi - lo)
                }
                out[1 + k] = s
                out[1 + (bins - 1) + k] = min(1, f1)
                out[1 + 2 * (bins - 1) + k] = min(1, f2)
                atRisk -= d1 + d2 + cens
            }
            out[1 + 3 * (bins - 1)] = median
        case .victimUpdateTime:
            let bins = TimeBins.count
            var atRisk = 0.0
            for i in 0..<(bins * 2) { atRisk += c(i) }
            out[0] = max(0, atRisk)
            var s = 1.0
            var median = Double.nan
            for k in 0..<(bins - 1) {
                let d = c(2 * k), cens = c(2 * k + 1)
                let effective = atRisk - cens / 2
                let h = effective > 0 ? unit(d / effective) : 0
                let before = s
                s *= 1 - h
                if median.isNaN && s <= 0.5 && before > 0.5 {
                    let lo = Double(TimeBins.edges[k]), hi = Double(TimeBins.edges[k + 1])
                    median = lo + (before - 0.5) / (before - s) * (hi - lo)
                }
                out[1 + k] = 1 - s
                atRisk -= d + cens
            }
            out[bins] = median
        case .attrition:
            // reached_k = Σ_{s ≥ k} y_s (unbiased), then made non-negative and non-increasing in k
            // by a running maximum from the last stage: monotone by construction.
            // (Written straight into `out[0..<n]`: no allocation in the simulation's inner loop.)
            let n = CaseStage.allCases.count
            var acc = 0.0, floor = 0.0
            for k in stride(from: n - 1, through: 0, by: -1) {
                acc += c(k)
                floor = max(floor, acc)
                out[k] = floor
            }
            for k in 1..<n {
                out[n + k - 1] = out[0] > 0 ? out[k] / out[0] : .nan
                out[2 * n - 1 + k - 1] = out[k - 1] > 0 ? out[k] / out[k - 1] : .nan
            }
        case .dispositions:
            let n = ChargedOutcome.allCases.count
            var total = 0.0
            for i in 0..<n { total += c(i) }
            out[0] = max(0, total)
            for i in 0..<n { out[1 + i] = total > 0 ? unit(c(i) / total) : .nan }
        case .backlog:
            var total = 0.0, suspended = 0.0
            for b in 0..<BacklogBands.count {
                let a = c(2 * b), s = c(2 * b + 1)
                total += a + s
                suspended += s
                out[2 + b] = max(0, a + s)
            }
            out[0] = max(0, total)
            out[1] = total > 0 ? unit(suspended / total) : .nan
        case .victimUpdateRecency:
            let none = c(0), total = c(0) + c(1)
            out[0] = max(0, total)
            out[1] = total > 0 ? unit(none / total) : .nan
        }
    }

    /// The feasible range of an estimate's unit (intervals are clipped to it).
    static func range(_ unit: String) -> ClosedRange<Double> {
        unit == "proportion" ? 0...1 : 0...Double.greatestFiniteMagnitude
    }
}
