import Foundation
import PlazoCases
import PlazoModel
import PlazoRandom
@testable import PlazoReleases

/// The shared seeded generator (SplitMix64) with the draws the synthetic summaries need.
typealias TestRNG = SplitMix64

extension SplitMix64 {
    init(_ seed: UInt64) { self.init(seed: seed) }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Exponential waiting time in days with the given mean.
    mutating func days(mean: Double) -> Int { Int(-log(1 - unit()) * mean) }
}

/// Synthetic case summaries with known truth: consistent with the case-state rules (a charge or
/// closure is only there if dated on or before the cutoff; disposed cases are charged; an open
/// case has no standing closure).
enum Synthetic {
    static func summaries(
        count: Int, cohorts: [Quarter], cutoff: Day, seed: UInt64,
        chargeMean: Double = 300, closureMean: Double = 500, updateMean: Double = 120
    ) -> [CaseSummary] {
        var rng = TestRNG(seed)
        var out: [CaseSummary] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let q = cohorts[rng.int(cohorts.count)]
            let first = q.firstDay!
            let length = first.days(to: q.next.firstDay!)
            var report = first.adding(days: rng.int(length))
            if report > cutoff { report = cutoff }
            let attrs = CaseAttributes(
                offence: OffenceCategory(rawValue: UInt8(rng.int(10)))!, ageBand: AgeBand(rawValue: UInt8(rng.int(5)))!,
                sex: .female, state: MexicanState(rawValue: UInt8(rng.int(33)))!, channel: ReportChannel(rawValue: UInt8(rng.int(6)))!)
            let agency = AgencyType(rawValue: UInt8(rng.int(9)))!
            let tCharge = rng.days(mean: chargeMean)
            let tClose = rng.days(mean: closureMean)
            let chargeDay = report.adding(days: tCharge)
            let closeDay = report.adding(days: tClose)
            var s = CaseSummary(cutoff: cutoff, firstReportDay: report, attributes: attrs, reportingAgencyType: agency)
            // Intermediate stages, in order, each with some probability.
            let stageDraw = rng.int(4)
            if stageDraw >= 1 { s.firstReferralDay = report }
            if stageDraw >= 2 { s.investigationDay = report.adding(days: 1).min(cutoff) }
            if stageDraw >= 3 { s.suspectIdentifiedDay = report.adding(days: 2).min(cutoff) }
            if tCharge <= tClose, chargeDay <= cutoff {
                s.chargeDay = chargeDay
                s.suspectIdentifiedDay = s.suspectIdentifiedDay ?? chargeDay
                let tDisp = rng.days(mean: 200)
                let dispDay = chargeDay.adding(days: tDisp)
                if dispDay <= cutoff, rng.int(3) > 0 {
                    s.disposition = Disposition(rawValue: UInt8(rng.int(7)))!
                    s.dispositionDay = dispDay
                    s.status = .disposed
                } else {
                    s.status = rng.int(5) == 0 ? .suspended : .active
                }
            } else if tClose < tCharge, closeDay <= cutoff {
                s.status = .closed
                s.closureDay = closeDay
                s.closureReason = .insufficientEvidence
            } else {
                s.status = rng.int(4) == 0 ? .suspended : .active
            }
            if rng.int(5) > 0 {
                let u = report.adding(days: rng.days(mean: updateMean))
                if u <= cutoff {
                    s.firstUpdateDay = u
                    let last = u.adding(days: rng.int(400))
                    s.lastUpdateDay = last <= cutoff ? last : u
                }
            }
            out.append(s)
        }
        return out
    }
}

extension Day {
    func min(_ other: Day) -> Day { self < other ? self : other }
}

/// Straightforward, independent computations of every derived figure from raw summaries.
enum Reference {
    /// The life-table bin lower edges, written out independently of `TimeBins`.
    static let edges: [Int] = [0, 30, 60, 90, 120, 150, 180, 211, 242, 273, 304, 334,
                               365, 395, 425, 455, 485, 515, 545, 576, 607, 638, 669, 699, 730]

    static func bin(_ t: Int) -> Int { edges.lastIndex { $0 <= t }! }

    struct LifeTableEstimates {
        var survival: [Double] = []     // at edges[1...24]
        var cif1: [Double] = []
        var cif2: [Double] = []
        var median: Double = .nan
    }

    /// Actuarial life table from per-case (time, kind) with kind 1 = event of type 1, 2 = type 2,
    /// 0 = censored, computed case by case: at risk at the start of bin k = cases whose time is in
    /// bin k or later.
    static func lifeTable(_ cases: [(t: Int, kind: Int)]) -> LifeTableEstimates {
        var r = LifeTableEstimates()
        var s = 1.0, f1 = 0.0, f2 = 0.0
        for k in 0..<24 {
            let inBin = cases.filter { bin($0.t) == k }
            let atRisk = Double(cases.filter { bin($0.t) >= k }.count)
            let d1 = Double(inBin.filter { $0.kind == 1 }.count)
            let d2 = Double(inBin.filter { $0.kind == 2 }.count)
            let c = Double(inBin.filter { $0.kind == 0 }.count)
            let n = atRisk - c / 2
            let h1 = n > 0 ? d1 / n : 0, h2 = n > 0 ? d2 / n : 0
            let before = s
            f1 += s * h1
            f2 += s * h2
            s *= 1 - h1 - h2
            if r.median.isNaN, s <= 0.5, before > 0.5 {
                r.median = Double(edges[k]) + (before - 0.5) / (before - s) * Double(edges[k + 1] - edges[k])
            }
            r.survival.append(s)
            r.cif1.append(f1)
            r.cif2.append(f2)
        }
        return r
    }

    static func decisionTimes(_ cases: [CaseSummary]) -> [(t: Int, kind: Int)] {
        cases.map { s in
            if let d = s.firstDecision { return (s.firstReportDay.days(to: d.day), d.kind == .charge ? 1 : 2) }
            return (s.firstReportDay.days(to: s.cutoff), 0)
        }
    }

    static func updateTimes(_ cases: [CaseSummary]) -> [(t: Int, kind: Int)] {
        cases.map { s in
            if let u = s.firstUpdateDay { return (s.firstReportDay.days(to: u), 1) }
            return (s.firstReportDay.days(to: s.cutoff), 0)
        }
    }

    /// Share reaching at least each stage, and conversion from the previous stage.
    static func funnel(_ cases: [CaseSummary]) -> (reached: [Double], share: [Double], conversion: [Double]) {
        let reached = CaseStage.allCases.map { k in Double(cases.filter { $0.furthestStage >= k }.count) }
        return (reached, (1..<6).map { reached[$0] / reached[0] }, (1..<6).map { reached[$0] / reached[$0 - 1] })
    }
}
