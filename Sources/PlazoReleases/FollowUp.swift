import PlazoModel

/// The public bounds on how long the cases of a group can have been followed: every case of a
/// cohort was first reported within the cohort's calendar quarter and is observed until the
/// cutoff, so its follow-up (days from first report to cutoff) lies between
/// `cutoff − min(last day of the quarter, cutoff)` and `cutoff − first day of the quarter`.
///
/// Both numbers are functions of the cohort and the cutoff, which are public, so using them costs
/// no privacy budget. They are used in two ways (`docs/metrics.md` §3):
/// - **Truncation.** No curve point, horizon estimate or median is published past the longest
///   possible follow-up ``longest``: beyond it the risk sets hold no case, only noise.
/// - **Structural zeros.** A cell that no case can occupy (a decision after the longest follow-up,
///   a censored case outside the follow-up span, an open case older than any case of the cohort)
///   is known to be 0; the derivation sets its noisy count to 0 before estimating, which removes
///   both its noise and the bias that any non-negativity constraint would add to it.
///
/// A pooled query (several cohorts summed) has the union of the cohorts' spans.
public struct FollowUp: Sendable, Hashable {
    /// The spans of possible follow-up in days, one per pooled cohort (inclusive).
    public let spans: [ClosedRange<Int>]

    /// The follow-up span of `cohort`'s cases at `cutoff`. A cohort that starts after the cutoff
    /// has no possible case (empty span list).
    public init(cohort: Quarter, cutoff: Day) {
        guard let first = cohort.firstDay, let last = cohort.lastDay, first <= cutoff else {
            self.spans = []
            return
        }
        let latestReport = last < cutoff ? last : cutoff
        self.spans = [latestReport.days(to: cutoff)...first.days(to: cutoff)]
    }

    /// The union of several groups' spans (a pooled query).
    public init(pooling parts: [FollowUp]) {
        self.spans = parts.flatMap(\.spans)
    }

    /// Spans given directly (tests).
    init(spans: [ClosedRange<Int>]) {
        self.spans = spans
    }

    /// The longest possible follow-up in days (−1 when no case is possible).
    public var longest: Int { spans.map(\.upperBound).max() ?? -1 }

    /// The shortest possible follow-up in days: every case of the group has been followed at least
    /// this long (−1 when no case is possible).
    public var shortest: Int { spans.map(\.lowerBound).min() ?? -1 }

    /// Whether every case of the group has been followed `h` days (`h ≤ shortest`), so that
    /// "within h days" is known for each case and a share of the cohort needs no censoring.
    public func coversEveryCase(horizon h: Int) -> Bool { !spans.isEmpty && h <= shortest }

    /// The last headline horizon (90, 180, 365, 730) that every case has been followed, or nil.
    public var lastCompleteHorizon: Int? { ChargeHorizons.horizons.last { coversEveryCase(horizon: $0) } }

    /// The last horizon (a bin edge, in days) at which curves are published: the largest edge
    /// `e ≤ min(longest, 730)` among the life tables' closed-bin ends, or nil when even the first
    /// (day 30) lies past the follow-up.
    public var lastPublishedHorizon: Int? {
        (1..<TimeBins.count).map { TimeBins.edges[$0] }.last { $0 <= longest }
    }

    /// Whether a curve point at horizon `h` days is within follow-up (`h ≤ longest`).
    ///
    /// "Within h days" means t < h; knowing whether a case had its event before day h needs it to
    /// be followed for h − 1 days. We require the stronger `h ≤ longest` so the last published
    /// point always rests on at least one full day of observation beyond it for the earliest cases.
    public func covers(horizon h: Int) -> Bool { h <= longest }

    /// Whether some case can have a follow-up time within `lo...hi` (days).
    func overlaps(_ lo: Int, _ hi: Int) -> Bool {
        spans.contains { $0.lowerBound <= hi && lo <= $0.upperBound }
    }

    /// For each cell of a group of `kind`, whether some case can occupy it (false = structural zero).
    func possibleCells(_ kind: TableKind) -> [Bool] {
        let bins = TimeBins.count
        func binRange(_ k: Int) -> (Int, Int) { (TimeBins.edges[k], TimeBins.upperEdge(k).map { $0 - 1 } ?? Int.max) }
        switch kind {
        case .timeToFirstDecision, .victimUpdateTime:
            let perBin = kind == .timeToFirstDecision ? 3 : 2
            var out: [Bool] = []
            out.reserveCapacity(bins * perBin)
            for k in 0..<bins {
                let (lo, hi) = binRange(k)
                // An event at t needs t ≤ follow-up ≤ longest; a censored case sits in the bin of
                // its follow-up.
                let event = lo <= longest
                let censored = overlaps(lo, hi)
                for p in 0..<perBin { out.append(p == perBin - 1 ? censored : event) }
            }
            return out
        case .backlog:
            // Open cases by age (= follow-up) band: 0–90, 91–180, 181–365, 366–730, 731+.
            let bands = [(0, 90), (91, 180), (181, 365), (366, 730), (731, Int.max)]
            return bands.flatMap { b in [overlaps(b.0, b.1), overlaps(b.0, b.1)] }
        case .attrition, .dispositions, .victimUpdateRecency:
            return [Bool](repeating: true, count: kind.cellsPerGroup)
        case .chargeByHorizon:
            // A charge at t needs t ≤ follow-up ≤ longest; the last cell is always possible.
            return [0, 90, 180, 365].map { $0 <= longest } + [true]
        }
    }
}
