import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

/// Release creation time against the number of cases (docs/metrics.md, "Performance"). Off by
/// default; run in release mode:
///
///     PLAZO_RELEASES_BENCH=1 swift test -c release --scratch-path .build-releases-rel --filter ReleasePerformance
///
/// Spec: all six tables broken down by cohort × state × offence category, 8 cohorts
/// (8 × 33 × 10 = 2,640 groups, 396,000 noisy cells), ρ = 1/100 per table, 200 simulation
/// replicates, production randomness (libsodium), stored in an in-memory SQLite database.
@Suite struct ReleasePerformanceTests {
    static let enabled = ProcessInfo.processInfo.environment["PLAZO_RELEASES_BENCH"] == "1"

    @Test(.enabled(if: enabled)) func releaseTimeAgainstCases() throws {
        let cutoff = Day(iso: "2026-06-30")!
        let cohorts = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]
        let quarters = cohorts.map { Quarter($0)! }
        let maxCases = Int(ProcessInfo.processInfo.environment["PLAZO_RELEASES_BENCH_CASES"] ?? "") ?? 10_000_000
        // Distinct synthetic cases, generated and projected a million at a time.
        var codes: [UInt64] = []
        codes.reserveCapacity(maxCases)
        var chunk: UInt64 = 0
        while codes.count < maxCases {
            let n = min(1_000_000, maxCases - codes.count)
            codes += Synthetic.summaries(count: n, cohorts: quarters, cutoff: cutoff, seed: 100 + chunk).map(CaseProjection.code(of:))
            chunk += 1
        }
        let spec = ReleaseSpec(
            title: "bench", cutoff: "2026-06-30", cohorts: cohorts,
            tables: TableKind.allCases.map { TableRequest(table: $0, breakdown: [.state, .offence], rho: "1/100") })
        let plan = try spec.validated()
        var sizes = [10_000, 100_000, 1_000_000, 10_000_000].filter { $0 <= maxCases }
        if !sizes.contains(maxCases) { sizes.append(maxCases) }
        print("cases\ttabulate_s\tnoise_s\tderive_s\tcreate_total_s\tcells")
        for n in sizes {
            let projection = CaseProjection(cutoff: cutoff, codes: Array(codes.prefix(n)))
            let db = try AppDatabase.forTesting()
            try BudgetLedger(database: db).setDefaultBudget(Rational(parsing: "1000"), by: "bench")
            let engine = ReleaseEngine(database: db)
            var slots = [Int16](repeating: -1, count: 1024)
            for (i, q) in plan.cohorts.enumerated() { slots[CaseProjection.cohortNumber(q)] = Int16(i) }
            let plans = plan.tables.map { TabulationPlan(kind: $0.kind, dimensions: $0.breakdown, cohortCount: 8) }
            let (exact, tTab) = time { projection.tabulate(plans, cohortSlots: slots) }
            let (noisy, tNoise) = try time { try engine.addNoise(exact, mechanisms: plan.tables.map(\.mechanism)) { () throws(PrivacyError) in try RandomBits.secure() } }
            let infos = try plan.tables.map { t throws(ReleaseError) in try ReleaseEngine.info(t, level: 0.95) }
            let (_, tDerive) = time { ReleaseEngine.derive(noisy, infos: infos, replicates: 200, level: 0.95, seed: 1, cohorts: plan.cohorts, cutoff: plan.cutoff) }
            // The whole public path, best of 3 (each creates a new stored release).
            var best = Double.infinity
            for _ in 0..<3 {
                let (_, t) = try time { try engine.create(spec: spec, requester: "bench", projection: projection) }
                best = min(best, t)
            }
            print("\(n)\t\(f(tTab))\t\(f(tNoise))\t\(f(tDerive))\t\(f(best))\t\(exact.reduce(0) { $0 + $1.count })")
        }
    }

    func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    func f(_ x: Double) -> String { String(format: "%.3f", x) }
}
