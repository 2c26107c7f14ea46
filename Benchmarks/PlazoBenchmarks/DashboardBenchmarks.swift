import Benchmark
import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoReleases
import PlazoStore

/// Dashboard reads from a stored release (all six tables × cohort × state × offence, 8 cohorts).
/// Both queries leave one breakdown dimension free, so the noisy cells of the selection are summed
/// and the intervals simulated (200 replicates) on each read: the costly path of a dashboard. The
/// HTTP path under concurrent load is measured by `plazo-perf dashboard` (Benchmarks/compare.sh).
///
/// Measured (release build, 2 cores, idle-ish): 3.6–4.5 ms per series, 84–245 allocations;
/// loading a stored release from SQLite 7 ms.
func dashboardBenchmarks() {
    let cutoff = Day(iso: "2026-06-30")!
    let cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .microseconds,
        warmupIterations: 3, maxDuration: .seconds(5), maxIterations: 5000)

    /// A stored release over synthetic summaries (uniform attributes, uniform decision times).
    func storedRelease() async throws -> (ReleaseEngine, Int64) {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return z ^ (z >> 31)
        }
        let quarters = cohorts.map { Quarter($0)! }
        let summaries = (0..<200_000).map { _ -> CaseSummary in
            let report = quarters[Int(next() % 8)].firstDay!.adding(days: Int(next() % 90))
            var s = CaseSummary(
                cutoff: cutoff, firstReportDay: report,
                attributes: CaseAttributes(
                    offence: OffenceCategory(rawValue: UInt8(next() % 10))!, ageBand: .unknown, sex: .unknown,
                    state: MexicanState(rawValue: UInt8(next() % 33))!, channel: .unknown),
                reportingAgencyType: .stateProsecutor)
            let day = report.adding(days: Int(next() % 900))
            if day <= cutoff { s.chargeDay = day }
            return s
        }
        let database = try AppDatabase.inMemory()
        try await BudgetLedger(database: database).setDefaultBudget(Rational(10, 1), by: "benchmark")
        let engine = ReleaseEngine(database: database)
        let spec = ReleaseSpec(
            title: "benchmark", cutoff: cutoff.iso, cohorts: cohorts,
            tables: TableKind.allCases.map { TableRequest(table: $0, breakdown: [.state, .offence], rho: "1/100") })
        let release = try await engine.create(spec: spec, requester: "benchmark", projection: CaseProjection(summaries: summaries, cutoff: cutoff))
        return (engine, release.metadata.id)
    }

    Benchmark("dashboard: cohort and state (pooled over 10 offence cells), charge incidence curve", configuration: configuration) { benchmark in
        let (engine, id) = try await storedRelease()
        let release = try await engine.release(id: id)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let state = 1 + i % 32
            blackHole(try Dashboard.series(
                release, metric: .chargeIncidenceCurve, filter: [.state: state < 10 ? "0\(state)" : "\(state)"], cohort: cohorts[i % 8]))
        }
    }

    Benchmark("dashboard: cohort and offence (pooled over 33 state cells), charge incidence curve", configuration: configuration) { benchmark in
        let (engine, id) = try await storedRelease()
        let release = try await engine.release(id: id)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try Dashboard.series(release, metric: .chargeIncidenceCurve, filter: [.offence: OffenceCategory.allCases[i % 10].label], cohort: cohorts[i % 8]))
        }
    }

    Benchmark("dashboard: load a stored release from SQLite", configuration: configuration) { benchmark in
        let (engine, id) = try await storedRelease()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try await engine.release(id: id)) }
    }
}
