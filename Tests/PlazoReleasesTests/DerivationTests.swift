import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import Testing

/// The pieces of the derivation (issue 10): follow-up bounds, structural zeros, the fits, the
/// median convention, and bad release specs.
@Suite struct DerivationTests {
    @Test func followUpComesFromTheQuarterAndTheCutoff() {
        let cutoff = Day(iso: "2026-09-30")!
        // 2026Q3 (Jul 1 – Sep 30): reports on Sep 30 have 0 days, on Jul 1 have 91.
        let q3 = FollowUp(cohort: Quarter("2026Q3")!, cutoff: cutoff)
        #expect(q3.spans == [0...91])
        #expect(q3.lastPublishedHorizon == 90)
        #expect(q3.covers(horizon: 90) && !q3.covers(horizon: 120))
        // 2026Q1 with 272 days at most: the last curve point is day 242.
        let q1 = FollowUp(cohort: Quarter("2026Q1")!, cutoff: cutoff)
        #expect(q1.spans == [183...272])
        #expect(q1.lastPublishedHorizon == 242)
        // Pooled: the union.
        #expect(FollowUp(pooling: [q1, q3]).longest == 272)
        // A cohort that has not started: nothing possible, nothing published.
        #expect(FollowUp(cohort: Quarter("2026Q4")!, cutoff: cutoff).lastPublishedHorizon == nil)
    }

    @Test func structuralZerosFollowTheSpan() {
        let f = FollowUp(spans: [183...272])
        let cells = f.possibleCells(.timeToFirstDecision)
        #expect(cells.count == 75)
        // Bin 0 (days 0–29): decisions possible, censoring impossible (no follow-up under 183).
        #expect(cells[0] && cells[1] && !cells[2])
        // Bin 6 (180–210) and bin 8 (242–272) may hold censored cases; bin 9 (273–303) nothing.
        #expect(cells[3 * 6 + 2] && cells[3 * 8 + 2])
        #expect(!cells[3 * 9] && !cells[3 * 9 + 1] && !cells[3 * 9 + 2])
        // Backlog: open cases are 183–272 days old: only the 181–365 band.
        #expect(f.possibleCells(.backlog) == [false, false, false, false, true, true, false, false, false, false])
    }

    @Test func isotonicRegressionPoolsOnlyViolators() {
        var v = [0.1, 0.3, 0.2, 0.4, 0.35, 0.5]
        Derivation.isotonicIncreasing(&v)
        #expect(zip(v, [0.1, 0.25, 0.25, 0.375, 0.375, 0.5]).allSatisfy { abs($0 - $1) < 1e-12 })
        var monotone = [0.0, 0.1, 0.2]
        Derivation.isotonicIncreasing(&monotone)
        #expect(monotone == [0.0, 0.1, 0.2])
    }

    @Test func simplexProjectionKeepsTheTotal() {
        let x = Derivation.simplexProjection([50, -6, 3, 20, 1, 0, -2], total: 66)
        #expect(abs(x.reduce(0, +) - 66) < 1e-9)
        #expect(x.allSatisfy { $0 >= 0 })
        // Already feasible: unchanged.
        #expect(Derivation.simplexProjection([3, 4, 5], total: 12) == [3, 4, 5])
    }

    /// A curve at exactly ½ on a plateau gives the plateau's first day, whatever the rounding of
    /// the arithmetic that produced it.
    @Test func medianConventionIsDeterministic() {
        let edges = [30, 60, 90, 120]
        #expect(Derivation.median(curve: [0.8, 0.5, 0.5, 0.4], edges: edges) == 60)
        #expect(Derivation.median(curve: [0.8, 0.5 + 1e-13, 0.5, 0.4], edges: edges) == 60)
        #expect(Derivation.median(curve: [0.8, 0.5 - 1e-13, 0.5, 0.4], edges: edges) == 60)
        // Linear within the bin: from 0.6 at day 30 to 0.4 at day 60 crosses ½ at day 45.
        #expect(abs(Derivation.median(curve: [0.6, 0.4], edges: [30, 60])! - 45) < 1e-12)
        // Not reached within the given points.
        #expect(Derivation.median(curve: [0.9, 0.7], edges: [30, 60]) == nil)
    }

    /// The published fit obeys the constraints on any noisy input: curves in [0, 1], incidences
    /// non-decreasing, S + F₁ + F₂ = 1, the funnel non-increasing, disposition shares summing to 1.
    @Test func fitsAreConsistentOnNoisyTables() throws {
        var rng = SimulationRNG(seed: 5)
        let noise = NoiseTable(.discreteGaussian(sigmaSquared: try Rational(parsing: "400")))
        let followUp = FollowUp(spans: [300...390])
        for _ in 0..<200 {
            let counts = (0..<75).map { _ in noise.draw(&rng) + 3 }
            var raw = [Double](repeating: 0, count: Derivation.layout(.timeToFirstDecision).count)
            counts.withUnsafeBufferPointer { c in raw.withUnsafeMutableBufferPointer { Derivation.raw(.timeToFirstDecision, c, $0) } }
            var fit = [Double](repeating: .nan, count: raw.count)
            counts.withUnsafeBufferPointer { Derivation.fit(.timeToFirstDecision, $0, raw: raw, followUp: followUp, &fit) }
            var previous = (s: 1.0, f1: 0.0, f2: 0.0)
            for k in 0..<24 {
                let (s, f1, f2) = (fit[1 + k], fit[25 + k], fit[49 + k])
                if TimeBins.edges[k + 1] > 390 { #expect(s.isNaN && f1.isNaN && f2.isNaN); continue }
                #expect(s >= 0 && s <= 1 && f1 >= previous.f1 && f2 >= previous.f2 && s <= previous.s)
                #expect(abs(s + f1 + f2 - 1) < 1e-12)
                previous = (s, f1, f2)
            }
            let funnelCounts = (0..<6).map { _ in noise.draw(&rng) + 10 }
            var funnelRaw = [Double](repeating: 0, count: 16), funnel = funnelRaw
            funnelCounts.withUnsafeBufferPointer { c in funnelRaw.withUnsafeMutableBufferPointer { Derivation.raw(.attrition, c, $0) } }
            funnelCounts.withUnsafeBufferPointer { Derivation.fit(.attrition, $0, raw: funnelRaw, followUp: followUp, &funnel) }
            for k in 1..<6 { #expect(funnel[k] <= funnel[k - 1] && funnel[k] >= 0) }
            let dispositions = (0..<7).map { _ in noise.draw(&rng) + 40 }
            var dRaw = [Double](repeating: 0, count: 8), d = dRaw
            dispositions.withUnsafeBufferPointer { c in dRaw.withUnsafeMutableBufferPointer { Derivation.raw(.dispositions, c, $0) } }
            dispositions.withUnsafeBufferPointer { Derivation.fit(.dispositions, $0, raw: dRaw, followUp: followUp, &d) }
            if d[0] > 0 { #expect(abs(d[1...].reduce(0, +) - 1) < 1e-9) }
        }
    }

    /// Nothing past follow-up reaches any output: the estimates CSV has no value for a beyond
    /// point, and the status says why.
    @Test func nothingIsPublishedPastFollowUp() async throws {
        let cutoff = Day(iso: "2026-09-30")!
        let cases = Synthetic.summaries(count: 3000, cohorts: [Quarter("2026Q3")!, Quarter("2025Q1")!], cutoff: cutoff, seed: 3)
        let r = try await engine().create(
            spec: spec(cutoff: "2026-09-30", cohorts: ["2025Q1", "2026Q3"], rho: "1/50", replicates: 50),
            requester: "t", projection: CaseProjection(summaries: cases, cutoff: cutoff), randomness: seeded(4))
        let t1 = table(r, .timeToFirstDecision)
        let csv = String(decoding: ReleaseExport.estimatesCSV(r, table: t1), as: UTF8.self)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        let x = header.firstIndex(of: "x")!, value = header.firstIndex(of: "value")!, status = header.firstIndex(of: "status")!
        var beyond = 0
        for row in rows.dropFirst() where row[0] == "2026Q3" {
            if let day = Int(row[x]), day > 91 {
                #expect(row[value].isEmpty && row[status] == "beyond_follow_up", "\(row)")
                beyond += 1
            }
        }
        #expect(beyond == 3 * 21)  // 21 of the 24 curve points of each of the three curves
        // The median of the recent cohort is not a number past day 90.
        let m = r.estimate(table: t1, group: 1, estimate: estimateIndex(.timeToFirstDecision, "median_days_to_first_decision"))
        #expect(m.value.isNaN || m.value <= 90)
        if m.value.isNaN { #expect(m.status == .notReached && m.observedUntil == 90 && m.text(unit: "days").hasPrefix("not reached by day 90")) }
        // Dashboards: the same.
        let curve = try Dashboard.series(r, metric: .chargeIncidenceCurve, cohort: "2026Q3")
        #expect(curve.filter { $0.value != nil }.map(\.x) == ["30", "60", "90"])
    }

    /// The life tables' first-order standard deviations agree with a brute-force simulation of the
    /// raw estimator (20,000 replicates: the simulated SD's own relative error is 1/√40,000 = 0.5 %),
    /// within 10 % where the risk sets are large against the noise; a wrong gradient term is off by
    /// far more.
    @Test func deltaMethodMatchesTheSimulation() throws {
        let cutoff = Day(iso: "2026-09-30")!
        let cases = Synthetic.summaries(count: 2600, cohorts: [Quarter("2025Q3")!], cutoff: cutoff, seed: 12)
        let projection = CaseProjection(summaries: cases, cutoff: cutoff)
        let followUp = FollowUp(cohort: Quarter("2025Q3")!, cutoff: cutoff)
        var slots = [Int16](repeating: -1, count: 1024)
        slots[CaseProjection.cohortNumber(Quarter("2025Q3")!)] = 0
        for kind in [TableKind.timeToFirstDecision, .victimUpdateTime] {
            let counts = projection.tabulate([TabulationPlan(kind: kind, dimensions: [], cohortCount: 1)], cohortSlots: slots)[0]
            let noise = NoiseTable(.discreteGaussian(sigmaSquared: try Rational(parsing: "25")))
            let possible = followUp.possibleCells(kind)
            let zeroed = zip(counts, possible).map { $1 ? $0 : 0 }
            let e = Derivation.layout(kind).count
            var raw = [Double](repeating: 0, count: e)
            zeroed.withUnsafeBufferPointer { y in raw.withUnsafeMutableBufferPointer { Derivation.raw(kind, y, $0) } }
            var fitted = [Double](repeating: .nan, count: e)
            zeroed.withUnsafeBufferPointer { Derivation.fit(kind, $0, raw: raw, followUp: followUp, &fitted) }
            let horizons = (1..<TimeBins.count).filter { followUp.covers(horizon: TimeBins.edges[$0]) }.count
            var delta = [Double](repeating: .nan, count: e), simulated = delta
            zeroed.withUnsafeBufferPointer {
                Derivation.lifeTableStandardDeviations(kind, $0, possible: possible, variance: noise.variance, horizons: horizons, into: &delta)
            }
            var rng = SimulationRNG(seed: 99)
            GroupSimulator(kind: kind, noise: noise, replicates: 20_000, confidence: 0.95).simulate(
                zeroed: zeroed, possible: possible, fitted: fitted, raw: raw, horizons: horizons, rng: &rng, spread: &simulated)
            var compared = 0
            for j in 0..<e where simulated[j].isFinite && simulated[j] > 0.004 {
                #expect(abs(delta[j] / simulated[j] - 1) < 0.10, "\(kind) \(Derivation.layout(kind)[j]): \(delta[j]) vs \(simulated[j])")
                compared += 1
            }
            #expect(compared >= 10)
        }
    }

    @Test func badSpecsGetSentencesWithTheValidValues() throws {
        func refusal(_ json: String) -> String {
            do {
                _ = try ReleaseSpec.decode(json: Data(json.utf8)).validated()
                return ""
            } catch { return error.description }
        }
        let base = #""title": "t", "cutoff": "2026-09-30", "cohorts": ["2026Q1"]"#
        let unknownTable = refusal(#"{\#(base), "tables": [{"table": "time_to_charge", "rho": "1/100"}]}"#)
        #expect(unknownTable.contains("tables[0].table \"time_to_charge\" is unknown") && unknownTable.contains("time_to_first_decision"))
        let unknownDim = refusal(#"{\#(base), "tables": [{"table": "attrition", "breakdown": ["municipio"], "rho": "1/100"}]}"#)
        #expect(unknownDim.contains("breakdown[0]") && unknownDim.contains("offence_category"))
        #expect(refusal(#"{\#(base), "confidenceLevel": 1.5, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("confidence_level"))
        #expect(refusal(#"{\#(base), "confidenceLevel": 0, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("0.5 and 0.999"))
        #expect(refusal(#"{\#(base), "simulationReplicates": 0, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("20 to 5000"))
        #expect(refusal(#"{\#(base), "simulationReplicates": 10000000, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("20 to 5000"))
        // The spec's two-word fields in snake_case (the API's convention) or in the camelCase of
        // the first spec files; both spellings of one field at once are refused.
        #expect(refusal(#"{\#(base), "confidence_level": 1.5, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("confidence_level"))
        #expect(refusal(#"{\#(base), "simulation_replicates": 0, "tables": [{"table": "attrition", "rho": "1/100"}]}"#).contains("20 to 5000"))
        let snake = try ReleaseSpec.decode(json: Data(#"{\#(base), "confidence_level": 0.9, "simulation_replicates": 300, "tables": [{"table": "attrition", "rho": "1/100"}]}"#.utf8))
        let camel = try ReleaseSpec.decode(json: Data(#"{\#(base), "confidenceLevel": 0.9, "simulationReplicates": 300, "tables": [{"table": "attrition", "rho": "1/100"}]}"#.utf8))
        #expect(snake == camel && snake.confidenceLevel == 0.9 && snake.simulationReplicates == 300)
        #expect(refusal(#"{\#(base), "confidence_level": 0.9, "confidenceLevel": 0.9, "tables": [{"table": "attrition", "rho": "1/100"}]}"#)
            .contains("not both"))
        let wrongType = refusal(#"{\#(base), "tables": [{"table": "attrition", "rho": 0.01}]}"#)
        #expect(wrongType.contains("tables[0].rho must be a string"))
        #expect(refusal(#"{"cutoff": "2026-09-30"}"#).contains("missing field"))
        #expect(refusal("not json").contains("not valid JSON"))
        // No Swift decoding internals in any of them.
        for text in [unknownTable, unknownDim, wrongType] {
            #expect(!text.contains("CodingKeys") && !text.contains("debugDescription") && !text.contains("Swift."))
        }
    }
}
