// plazo-perf realistic: the issue-21 scenario. A jurisdiction at realistic volume (10,000 synthetic
// cases reported over four years: about 600 per quarterly cohort nationally, tens per state), then
// the documented quarterly practice, eight quarterly releases, each covering the eight report
// quarters up to its cutoff, made twice at equal lifetime budget:
//   old: the example spec before issue 21 (rho 1/25 per release, state life tables by quarter),
//   new: docs/examples/quarterly-release.json (rho 1/8 per release: a cohort's budget of 1 is spent
//        by its last release; time to charge counted directly, the national table released
//        continually; state tables pooled by year).
// For the last release it reports, per method: the share of state-level shares of time to charge
// and time to decision flagged reliable (the issue's measure), the same over all state-level
// shares (the funnel's too), the national "charged within 365 days" half-width for the cohort
// followed exactly a year, and the time the eight releases took. Production noise: each method runs
// `--repeat` times (3); one JSON object per run, then the means.

import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoReleases
import PlazoStore

/// The example spec as it stood before issue 21 (the old method).
let oldQuarterlySpec = #"""
{
  "title": "Quarterly release (before issue 21)",
  "cutoff": "2026-09-30",
  "cohorts": ["2024Q4"],
  "tables": [
    { "table": "time_to_first_decision", "breakdown": [], "rho": "1/300" },
    { "table": "attrition", "breakdown": [], "rho": "1/300" },
    { "table": "dispositions", "breakdown": [], "rho": "1/300" },
    { "table": "backlog", "breakdown": [], "rho": "1/300" },
    { "table": "victim_update_time", "breakdown": [], "rho": "1/300" },
    { "table": "victim_update_recency", "breakdown": [], "rho": "1/300" },
    { "table": "time_to_first_decision", "breakdown": ["state", "offence_category"], "rho": "1/100" },
    { "table": "attrition", "breakdown": ["state"], "rho": "1/100" }
  ]
}
"""#

/// What one method's last release reads like.
struct RealisticOutcome {
    /// State-level shares of time to charge and time to decision (the issue's measure).
    var timeShares = 0, timeReliable = 0
    /// All state-level shares, the funnel's included.
    var stateShares = 0, stateReliable = 0, stateInsufficient = 0
    var nationalCharged365: (value: Double, halfWidth: Double)?
    var nationalSource = ""
    var seconds = 0.0
    var rhoPerRelease = ""
}

func runRealistic() async throws {
    let cases = option("cases", 10_000)
    let releases = option("releases", 8)
    let lastCutoffQuarter = Quarter("2026Q3")!
    var cutoffs: [Quarter] = [lastCutoffQuarter]
    while cutoffs.count < releases { cutoffs.insert(cutoffs[0].previous, at: 0) }
    // Reports from 2023-01-01 to the last cutoff: 15 quarters, about 600 cases each nationally.
    var index = CaseIndex(expectedCases: cases)
    forEachSyntheticEvent(cases: cases, seed: 21, from: Day(year: 2023, month: 1, day: 1)!, cutoff: lastCutoffQuarter.lastDay!) { e, a in
        index.apply(e, from: AgencyID(UInt32(a + 1)))
    }
    let newSpecPath = stringOption("spec") ?? "docs/examples/quarterly-release.json"
    let newSpec = try ReleaseSpec.decode(json: Data(contentsOf: URL(fileURLWithPath: newSpecPath)))
    let oldSpec = try ReleaseSpec.decode(json: Data(oldQuarterlySpec.utf8))

    func run(_ template: ReleaseSpec, name: String) async throws -> RealisticOutcome {
        let dir = NSTemporaryDirectory() + "plazo-realistic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try AppDatabase.open(path: dir + "/plazo.sqlite")
        // The lifetime budget of every cohort: rho = 1.
        try await BudgetLedger(database: database).setDefaultBudget(Rational(1, 1), by: "perf")
        let engine = ReleaseEngine(database: database)
        // The service's path (pins, and the continual streams' held entries): every event is in
        // the index from the start, and each release reads it as of its cutoff, which is what
        // arrival at each quarter's end gives.
        let live = ReplayedCases(index, lastBatch: 0)
        var last: Release?
        var outcome = RealisticOutcome()
        let clock = ContinuousClock()
        let started = clock.now
        for cutoffQuarter in cutoffs {
            var spec = template
            var cohorts: [Quarter] = [cutoffQuarter]
            while cohorts.count < 8 { cohorts.insert(cohorts[0].previous, at: 0) }
            spec.cutoff = cutoffQuarter.lastDay!.iso
            spec.cohorts = cohorts.map(\.description)
            spec.title = "\(name) \(cutoffQuarter)"
            last = try await engine.create(spec: spec, requester: "perf", live: live)
        }
        outcome.seconds = (clock.now - started) / .seconds(1)
        guard let release = last else { return outcome }
        // The schedule's average per release (a release with continual tables charges each cohort
        // its own step's cost, front-loaded; over the schedule it is the same).
        outcome.rhoPerRelease = try template.validated().totalRho.description
        // State-level shares of time to charge, time to decision and the funnel.
        let kinds: Set<TableKind> = [.timeToFirstDecision, .chargeByHorizon, .attrition]
        for (t, table) in release.tables.enumerated() where table.info.breakdown.contains(.state) && kinds.contains(table.info.kind) {
            for g in 0..<table.groupCount {
                for (e, d) in table.info.estimates.enumerated() where d.unit == "proportion" {
                    let estimate = release.estimate(table: t, group: g, estimate: e)
                    if estimate.status == .beyondFollowUp { continue }
                    outcome.stateShares += 1
                    if estimate.reliable { outcome.stateReliable += 1 }
                    if estimate.status == .insufficientData { outcome.stateInsufficient += 1 }
                    if table.info.kind != .attrition {
                        outcome.timeShares += 1
                        if estimate.reliable { outcome.timeReliable += 1 }
                    }
                }
            }
        }
        // National "charged within 365 days" for the cohort followed exactly a year (the fourth
        // quarter before the cutoff): counted directly when the release has the table, else the
        // life table's cumulative incidence.
        let cohort = cutoffs.last!.previous.previous.previous.previous.description
        guard let g = release.metadata.cohorts.firstIndex(of: cohort) else { return outcome }
        let direct = release.tables.indices.first { release.tables[$0].info.kind == .chargeByHorizon && release.tables[$0].info.breakdown.isEmpty && release.tables[$0].info.pooling == nil }
        let curve = release.tables.indices.first { release.tables[$0].info.kind == .timeToFirstDecision && release.tables[$0].info.breakdown.isEmpty && release.tables[$0].info.pooling == nil }
        if let t = direct, let e = release.tables[t].info.estimates.firstIndex(where: { $0.name == "charged_within" && $0.x == "365" }) {
            let v = release.estimate(table: t, group: g, estimate: e)
            if let h = v.halfWidth { outcome.nationalCharged365 = (v.value, h) }
            outcome.nationalSource = "charge_by_horizon"
        } else if let t = curve, let e = release.tables[t].info.estimates.firstIndex(where: { $0.name == "cumulative_incidence_charge" && $0.x == "365" }) {
            let v = release.estimate(table: t, group: g, estimate: e)
            if let h = v.halfWidth { outcome.nationalCharged365 = (v.value, h) }
            outcome.nationalSource = "time_to_first_decision"
        }
        return outcome
    }

    // Production noise differs from run to run: each method's schedule is run `repeat` times
    // (3 by default) and every run is reported; the ratios use the means.
    var olds: [RealisticOutcome] = [], news: [RealisticOutcome] = []
    for _ in 0..<max(1, option("repeat", 3)) {
        olds.append(try await run(oldSpec, name: "old"))
        news.append(try await run(newSpec, name: "new"))
    }
    func fields(_ o: RealisticOutcome, method: String) -> [String: Any] {
        [
            "metric": "realistic", "method": method, "cases": index.caseCount, "releases": releases, "rho_per_release": o.rhoPerRelease,
            "time_state_shares": o.timeShares, "time_state_reliable": o.timeReliable,
            "time_state_reliable_share": o.timeShares == 0 ? 0 : Double(o.timeReliable) / Double(o.timeShares),
            "state_shares": o.stateShares, "state_reliable": o.stateReliable, "state_insufficient_data": o.stateInsufficient,
            "state_reliable_share": o.stateShares == 0 ? 0 : Double(o.stateReliable) / Double(o.stateShares),
            "national_charged_365_value": o.nationalCharged365?.value ?? -1,
            "national_charged_365_half_width": o.nationalCharged365?.halfWidth ?? -1,
            "national_source": o.nationalSource, "release_seconds": o.seconds,
        ]
    }
    for o in olds { report(fields(o, method: "old")) }
    for o in news { report(fields(o, method: "new")) }
    func mean(_ xs: [RealisticOutcome], _ f: (RealisticOutcome) -> Double) -> Double { xs.map(f).reduce(0, +) / Double(xs.count) }
    report([
        "metric": "realistic_mean", "runs": olds.count,
        "old_time_state_reliable_share": mean(olds) { Double($0.timeReliable) / Double(max($0.timeShares, 1)) },
        "new_time_state_reliable_share": mean(news) { Double($0.timeReliable) / Double(max($0.timeShares, 1)) },
        "old_state_reliable_share": mean(olds) { Double($0.stateReliable) / Double(max($0.stateShares, 1)) },
        "new_state_reliable_share": mean(news) { Double($0.stateReliable) / Double(max($0.stateShares, 1)) },
        "old_national_charged_365_half_width": mean(olds) { $0.nationalCharged365?.halfWidth ?? .nan },
        "new_national_charged_365_half_width": mean(news) { $0.nationalCharged365?.halfWidth ?? .nan },
        "release_time_new_over_old": mean(news) { $0.seconds } / mean(olds) { $0.seconds },
    ])
}

extension Quarter {
    /// The quarter before this one.
    fileprivate var previous: Quarter { quarter == 1 ? Quarter(year: year - 1, quarter: 4)! : Quarter(year: year, quarter: quarter - 1)! }
}
