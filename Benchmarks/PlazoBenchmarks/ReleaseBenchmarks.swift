import Benchmark
import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoReleases
import PlazoStore

/// Release creation (docs/metrics.md, "Performance"): all six tables broken down by
/// cohort × state × offence category, 8 cohorts (2,640 groups, 396,000 noisy cells), ρ = 1/100
/// per table, 200 simulation replicates, production randomness, stored in in-memory SQLite —
/// from a per-cutoff ``CaseProjection`` of 10k, 100k, 1M and 10M synthetic cases, so the
/// benchmark shows how the time grows with the number of cases. Building the projection (case
/// evaluation, O(cases), once per cutoff) is measured separately at 1M cases.
func releaseBenchmarks() {
    let cutoff = Day(iso: "2026-06-30")!
    let cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    let quarters = cohorts.map { Quarter($0)! }
    let spec = ReleaseSpec(
        title: "benchmark", cutoff: "2026-06-30", cohorts: cohorts,
        tables: TableKind.allCases.map { TableRequest(table: $0, breakdown: [.state, .offence], rho: "1/100") })
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 10)

    /// Cheap synthetic summaries (uniform attributes, exponential waiting times), `n` of them.
    func summaries(_ n: Int, seed: UInt64) -> [CaseSummary] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<n).map { _ in
            let q = quarters[Int(next() % 8)]
            let report = q.firstDay!.adding(days: Int(next() % 90))
            var s = CaseSummary(
                cutoff: cutoff, firstReportDay: report,
                attributes: CaseAttributes(
                    offence: OffenceCategory(rawValue: UInt8(next() % 10))!, ageBand: AgeBand(rawValue: UInt8(next() % 5))!,
                    sex: .unknown, state: MexicanState(rawValue: UInt8(next() % 33))!, channel: ReportChannel(rawValue: UInt8(next() % 6))!),
                reportingAgencyType: AgencyType(rawValue: UInt8(next() % 9))!)
            let t = Int(next() % 900)
            let day = report.adding(days: t)
            if day <= cutoff {
                if next() % 2 == 0 { s.chargeDay = day } else { s.status = .closed; s.closureDay = day }
            }
            if next() % 3 > 0 { let u = report.adding(days: Int(next() % 200)); if u <= cutoff { s.firstUpdateDay = u; s.lastUpdateDay = u } }
            return s
        }
    }

    for cases in [10_000, 100_000, 1_000_000, 10_000_000] {
        Benchmark("release: create, 6 tables × cohort×state×offence, \(cases) cases", configuration: configuration) { benchmark in
            var all: [CaseSummary] = []
            var projections: [CaseProjection] = []
            // Built a million at a time to bound memory; concatenated through the public initialiser.
            for chunk in 0..<max(1, cases / 1_000_000) {
                all = summaries(min(cases, 1_000_000), seed: UInt64(chunk))
                projections.append(CaseProjection(summaries: all, cutoff: cutoff))
            }
            let projection = projections.count == 1 ? projections[0] : CaseProjection(merging: projections)
            all = []
            let db = try AppDatabase.inMemory()
            try await BudgetLedger(database: db).setDefaultBudget(Rational(parsing: "10000"), by: "benchmark")
            let engine = ReleaseEngine(database: db)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await engine.create(spec: spec, requester: "benchmark", projection: projection))
            }
        }
    }

    Benchmark("release: projection of 1M summaries (once per cutoff)", configuration: configuration) { benchmark in
        let all = summaries(1_000_000, seed: 9)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(CaseProjection(summaries: all, cutoff: cutoff)) }
    }
}
