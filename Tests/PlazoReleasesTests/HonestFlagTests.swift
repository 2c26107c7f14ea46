import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import Testing

/// A share of possibly nothing is not a reliable zero (issue 21, item 1).
///
/// At realistic volumes (about 600 cases per quarterly cohort nationally, so tens per state and a
/// few per state × offence), many state-level denominators are noisy values at or below 0, or
/// have an interval reaching 0. Before the fix, the fit clipped such a share to 0 with a zero-width
/// interval and the width rule flagged it reliable ("0 % (0 – 0)"). Every such figure must now be
/// published without a value, as `insufficient_data`, in the release document, the CSVs and the
/// dashboards alike.
@Suite struct HonestFlagTests {
    static let cutoff = Day(iso: "2026-06-30")!
    static let cohorts = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]

    /// The realistic-volume release: 600 cases per cohort, national and state × offence tables at
    /// the ρ the example spec gave state tables (1/100), fixed seeds.
    static func release() async throws -> Release {
        let quarters = cohorts.map { Quarter($0)! }
        let cases = Synthetic.summaries(count: 600 * cohorts.count, cohorts: quarters, cutoff: cutoff, seed: 21)
        let projection = CaseProjection(summaries: cases, cutoff: cutoff)
        return try await engine().create(
            spec: spec(cutoff: cutoff.iso, cohorts: cohorts, rho: "1/100", breakdowns: [[], [.state], [.state, .offence]], replicates: 40),
            requester: "tester", projection: projection, randomness: seeded(21))
    }

    @Test func sharesWithoutADenominatorAreInsufficientDataNeverReliable() async throws {
        let r = try await Self.release()
        var guarded = 0, checked = 0
        for (t, table) in r.tables.enumerated() {
            let info = table.info
            for g in 0..<table.groupCount {
                for e in info.estimates.indices {
                    guard let j = Derivation.denominatorIndex(info.kind, estimate: e) else { continue }
                    let estimate = r.estimate(table: t, group: g, estimate: e)
                    let denominator = r.estimate(table: t, group: g, estimate: j)
                    guard estimate.status != .beyondFollowUp else { continue }
                    checked += 1
                    let noDenominator = !(denominator.value > 0) || !(denominator.low > 0)
                    if noDenominator {
                        guarded += 1
                        #expect(estimate.status == .insufficientData)
                        #expect(estimate.value.isNaN && estimate.low.isNaN && estimate.high.isNaN)
                        #expect(!estimate.reliable)
                    } else {
                        #expect(estimate.status != .insufficientData)
                    }
                }
            }
        }
        // The scenario must exercise the rule (hundreds of state-level points lack a denominator).
        #expect(checked > 10_000)
        #expect(guarded > 500, "\(guarded) of \(checked) ratio figures lack a denominator")
        // National figures at 600 cases per cohort keep their values.
        let national = table(r, .timeToFirstDecision)
        for g in 0..<r.tables[national].groupCount {
            #expect(r.estimate(table: national, group: g, estimate: estimateIndex(.timeToFirstDecision, "cumulative_incidence_charge", "90")).status == .ok)
        }
    }

    @Test func csvAndDashboardsPublishNoValueWithoutADenominator() async throws {
        let r = try await Self.release()
        // Estimates CSV: an insufficient_data row has empty value and interval and reliable=false.
        let t = table(r, .attrition, [.state, .offence])
        let csv = String(decoding: ReleaseExport.estimatesCSV(r, table: t), as: UTF8.self)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let insufficient = rows.filter { $0.contains("insufficient_data") }
        #expect(!insufficient.isEmpty)
        for row in insufficient {
            // cohort, state, offence, estimate, x, unit, value, ci_low, ci_high, half_width, status, observed_until, reliable
            #expect(row[6].isEmpty && row[7].isEmpty && row[8].isEmpty && row[9].isEmpty)
            #expect(row[12] == "false")
        }
        // Dashboards: for every state of one cohort, a funnel share is either readable off a
        // positive denominator interval, or absent as insufficient_data; never a reliable value
        // over a denominator that may be zero.
        var absent = 0
        for state in BreakdownDimension.state.codes {
            let points = try Dashboard.series(r, metric: .funnelShare, filter: [.state: state], cohort: "2025Q4")
            for p in points {
                let reachesZero = p.denominator.map { !($0.value > 0) || !(($0.low ?? 0) > 0) } ?? true
                if reachesZero {
                    absent += 1
                    #expect(p.status == .insufficientData && p.value == nil && !p.reliable)
                }
            }
            let days = try Dashboard.series(r, metric: .daysToChargedShare, filter: [.state: state], cohort: "2025Q4")
            for p in days where p.denominator.map({ !($0.value > 0) || !(($0.low ?? 0) > 0) }) ?? true {
                #expect(p.status == .insufficientData && p.value == nil)
            }
        }
        #expect(absent > 0)
    }
}
