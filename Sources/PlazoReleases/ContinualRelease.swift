import Foundation
import PlazoCases
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// The continual part of one pinned release: the step each cohort's stream is at and what the
/// continual tables charge it (`docs/privacy-model.md` §4a).
struct ContinualStepPlan {
    /// Indices (in the spec) of the continual tables.
    var tables: [Int]
    /// Per cohort of the release (sorted order): its stream's step at this release.
    var steps: [Int]
    /// Cohort number (quarters since 2000Q1) → step: what the case index applies.
    var stepsByNumber: [Int: Int]
    /// Per cohort: the ledger units the continual tables charge it at its step.
    var charges: [Int64]
    /// `"2025Q1|charge_by_horizon"` → the stream's stored steps, in order.
    var history: [String: [ContinualStepRow]]
}

extension ReleaseEngine {
    /// Where each cohort's streams are, from the stored steps: the next step, refused when a
    /// stream is complete (``ReleaseError/budgetExceeded(_:)``, saying so) or when the spec
    /// changes a stream's schedule or its set of continual tables (``ReleaseError/invalidSpec(_:)``).
    /// Nil for a spec with no continual table.
    static func continualStepPlan(_ plan: ValidatedSpec, history rows: [ContinualStepRow]) throws(ReleaseError) -> ContinualStepPlan? {
        let tables = plan.tables.indices.filter { plan.tables[$0].continual != nil }
        guard !tables.isEmpty else { return nil }
        var history: [String: [ContinualStepRow]] = [:]
        for r in rows { history["\(r.cohort)|\(r.tableKey)", default: []].append(r) }
        for k in history.keys { history[k]!.sort { $0.step < $1.step } }
        let keys = Set(tables.map { plan.tables[$0].streamKey })
        var steps: [Int] = [], byNumber: [Int: Int] = [:], charges: [Int64] = []
        for q in plan.cohorts {
            let mine = rows.filter { $0.cohort == q.description }
            let previous = mine.map(\.step).max() ?? 0
            if previous > 0 {
                let had = Set(mine.filter { $0.step == previous }.map(\.tableKey))
                if had != keys {
                    throw .invalidSpec(
                        "cohort \(q)'s continual stream has the tables \(had.sorted().joined(separator: ", ")); this spec's continual tables are \(keys.sorted().joined(separator: ", ")). Every release of a cohort's stream names the same continual tables (add others without \"continual\")")
                }
            }
            let step = previous + 1
            var units: Int64 = 0
            for t in tables {
                let table = plan.tables[t]
                let schedule = table.continual!
                if let first = history["\(q)|\(table.streamKey)"]?.first,
                    first.horizon != schedule.horizon || first.lifetimeRho != schedule.lifetimeRho.description
                {
                    throw .invalidSpec(
                        "tables[\(t)]: cohort \(q)'s stream of \(table.streamKey) started with releases_per_cohort = \(first.horizon) and a lifetime ρ = \(first.lifetimeRho) (rho × releases_per_cohort); a stream keeps its schedule, this spec gives \(schedule.horizon) and \(schedule.lifetimeRho)")
                }
                guard step <= schedule.horizon else {
                    throw .budgetExceeded(
                        "cohort \(q) has had all \(schedule.horizon) releases of its continual stream of \(table.streamKey) (releases_per_cohort = \(schedule.horizon)), so its lifetime ρ = \(schedule.lifetimeRho) for that table is spent; leave the cohort out, or release the table without \"continual\" from what remains of its budget")
                }
                do { units += try schedule.charge(step: step).units } catch { throw .invalidSpec("tables[\(t)]: \(error)") }
            }
            steps.append(step)
            byNumber[CaseProjection.cohortNumber(q)] = step
            charges.append(units)
        }
        return ContinualStepPlan(tables: tables, steps: steps, stepsByNumber: byNumber, charges: charges, history: history)
    }

    /// The continual tables of a release, computed while the release holds the store's writer.
    ///
    /// For each continual table and cohort: the exact increments xⱼ (cases whose charge entered the
    /// stream at step j, by breakdown group and band, from the case index's held entries: internal
    /// only), the encoded wₖ = (R·x)ₖ + Zₖ of this step with exact discrete Gaussian noise, the
    /// cohort's noisy size (drawn at step 1, then read back), and the published cells: the decoded
    /// running totals Ŝₖ = (L·w)ₖ rounded, 0 in bands no case can reach yet, and `not_by_730` =
    /// N̂ − Σ bands. Everything after the draws is post-processing of w and N̂.
    ///
    /// - Returns: per continual table its index, info, cells and derived estimates; and the stream
    ///   steps to store with the release.
    func computeContinual(
        _ plan: ValidatedSpec, steps cp: ContinualStepPlan, live: any LiveCases, bits: inout RandomBits
    ) throws(ReleaseError) -> (tables: [(index: Int, info: ReleasedTableInfo, noisy: [Int64], derived: [Double])], rows: [ContinualStepRow]) {
        // 1. Every member of every stepped cohort, with its entry as this release leaves it.
        var slot: [Int: Int] = [:]
        for (i, q) in plan.cohorts.enumerated() { slot[CaseProjection.cohortNumber(q)] = i }
        var members = [[StreamEntry]](repeating: [], count: plan.cohorts.count)
        live.withMutableCaseIndex { index in
            index.forEachStreamEntry(asOf: plan.cutoff, steps: cp.stepsByNumber) { cohort, entry in
                if let i = slot[cohort] { members[i].append(entry) }
            }
        }

        let z = normalQuantile(1 - (1 - plan.confidenceLevel) / 2)
        var out: [(index: Int, info: ReleasedTableInfo, noisy: [Int64], derived: [Double])] = []
        var rows: [ContinualStepRow] = []
        for t in cp.tables {
            let table = plan.tables[t]
            let schedule = table.continual!
            let groups = table.breakdown.reduce(1) { $0 * $1.cardinality }
            let bandMechanism: DiscreteGaussianMechanism, sizeMechanism: DiscreteGaussianMechanism
            do {
                bandMechanism = try schedule.bandMechanism()
                sizeMechanism = try schedule.sizeMechanism()
            } catch { throw .noise("\(error)") }
            var noisy: [Int64] = [], derived: [Double] = [], cohorts: [ContinualTableInfo.Cohort] = []
            for (ci, q) in plan.cohorts.enumerated() {
                let step = cp.steps[ci]
                let past = cp.history["\(q)|\(table.streamKey)"] ?? []
                // 2. Exact increments and sizes (internal: they leave only through the noise below).
                var x = [[Int64]](repeating: [Int64](repeating: 0, count: groups * 4), count: step)
                var n = [Int64](repeating: 0, count: groups)
                for e in members[ci] {
                    let g = Self.group(of: e, table.breakdown)
                    n[g] += 1
                    if let s = e.entryStep, s <= step { x[s - 1][g * 4 + e.band] += 1 }
                }
                // 3. The stream's published history, then this step's draw.
                var encoded: [[Int64]] = []
                for row in past { encoded.append(try Self.integers(row.encoded, count: groups * 4, what: "stream \(q) \(table.streamKey)")) }
                guard encoded.count == step - 1 else { throw .corruptDocument("stream \(q) \(table.streamKey) has \(encoded.count) stored steps, expected \(step - 1)") }
                var w = [Int64](repeating: 0, count: groups * 4)
                do {
                    for cell in w.indices {
                        w[cell] = try ContinualCounting.encode(
                            increments: x.map { $0[cell] }, encoder: schedule.encoder, mechanism: bandMechanism, using: &bits)
                    }
                } catch { throw .noise("\(error)") }
                encoded.append(w)
                var sizes: [Int64]
                if step == 1 {
                    sizes = n
                    do {
                        for g in sizes.indices {
                            let (v, o) = sizes[g].addingReportingOverflow(try sizeMechanism.sampleNoise(using: &bits))
                            if o { throw PrivacyError.countOverflow(index: g) }
                            sizes[g] = v
                        }
                    } catch { throw .noise("\(error)") }
                } else {
                    sizes = try Self.integers(past[0].sizes ?? "", count: groups, what: "stream \(q) \(table.streamKey) sizes")
                }

                // 4. Post-processing: decoded running totals, structural zeros, estimates.
                let followUp = FollowUp(cohort: q, cutoff: plan.cutoff)
                let possible = followUp.possibleCells(.chargeByHorizon)
                // A band cell's variance: the stream's at this step, plus rounding to an integer.
                let bandVariance = schedule.bandVariance(step: step) + 1.0 / 12
                let bandVariances = (0..<4).map { possible[$0] ? bandVariance : 0 }
                for g in 0..<groups {
                    var cells = [Int64](repeating: 0, count: ChargeHorizons.labels.count)
                    var charged: Int64 = 0
                    for b in 0..<4 where possible[b] {
                        let totals = ContinualCounting.runningTotals(encoded: encoded.map { $0[g * 4 + b] }, encoder: schedule.encoder)
                        cells[b] = Int64(totals[step - 1].rounded())
                        charged += cells[b]
                    }
                    cells[4] = sizes[g] - charged
                    noisy += cells
                    derived += ContinualDerivation.run(
                        cells, bandVariances: bandVariances, sizeVariance: schedule.sizeVariance, followUp: followUp, z: z)
                }
                let charge: RhoUnits
                do { charge = try schedule.charge(step: step) } catch { throw .noise("\(error)") }
                cohorts.append(ContinualTableInfo.Cohort(
                    cohort: q.description, step: step, chargedRho: charge.rho.description, bandVariance: bandVariance,
                    sizeVariance: schedule.sizeVariance,
                    cellStandardDeviations: bandVariances.map { $0.squareRoot() } + [(schedule.sizeVariance + bandVariances.reduce(0, +)).squareRoot()],
                    encoded: encoded, sizes: sizes))
                rows.append(ContinualStepRow(
                    cohort: q.description, tableKey: table.streamKey, step: step, releaseID: 0, horizon: schedule.horizon,
                    lifetimeRho: schedule.lifetimeRho.description, encoded: Self.json(w), sizes: step == 1 ? Self.json(sizes) : nil))
            }
            var info = try Self.info(table, level: plan.confidenceLevel)
            // The table-wide noise fields describe its least precise cohort; each cohort's own
            // variances are in `continual`.
            let worst = cohorts.map(\.bandVariance).max() ?? 0
            info.noise = "continual discrete Gaussian (square-root factorization, \(schedule.horizon) releases, lifetime ρ = \(schedule.lifetimeRho))"
            info.sigmaSquared = nil
            info.noiseStandardDeviation = worst.squareRoot()
            info.halfWidth = Int64((z * worst.squareRoot()).rounded(.up))
            info.continual = ContinualTableInfo(
                horizon: schedule.horizon, lifetimeRho: schedule.lifetimeRho.description, sizeRho: schedule.sizeRho.description,
                bandRho: schedule.bandRho.description, encoder: schedule.encoder.coefficients,
                decoder: ContinualCounting.decoder(schedule.encoder), cohorts: cohorts)
            out.append((t, info, noisy, derived))
        }
        return (out, rows)
    }

    /// The breakdown group (within its cohort) of a member, from its frozen attributes, in the
    /// order every table uses: the first dimension outermost.
    static func group(of e: StreamEntry, _ dimensions: [BreakdownDimension]) -> Int {
        var g = 0
        for d in dimensions {
            let code: UInt8 =
                switch d {
                case .state: e.state
                case .offence: e.offence
                case .ageBand: e.ageBand
                case .channel: e.channel
                case .agencyType: e.agencyType
                }
            g = g * d.cardinality + min(Int(code), d.cardinality - 1)
        }
        return g
    }

    static func json(_ values: [Int64]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

    static func integers(_ text: String, count: Int, what: String) throws(ReleaseError) -> [Int64] {
        guard let values = try? JSONDecoder().decode([Int64].self, from: Data(text.utf8)), values.count == count else {
            throw .corruptDocument("\(what): stored values unreadable or of the wrong length")
        }
        return values
    }
}

/// Derived estimates of one group (or a union of groups) of a continual `charge_by_horizon` table:
/// the same estimators and fit as every table (``Derivation/raw(_:_:_:horizons:)``,
/// ``Derivation/fit(_:_:raw:followUp:_:)``), with intervals by first-order propagation of the
/// streams' known variances instead of a simulation (the noise is a sum of many scaled discrete
/// Gaussians per cell, close to normal).
///
/// The total is N̂ exactly (`not_by_730` = N̂ − Σ bands), so Var(cases) = Var N̂; a share
/// C/N̂ with C the bands up to h has Var ≈ Var C/N̂² + C²·Var N̂/N̂⁴ (C and N̂ independent: different
/// draws). The interval is raw ± z·SD, clipped to [0, 1] and widened to contain the fitted value.
enum ContinualDerivation {
    /// Value, low, high for each estimate of the layout (3 per estimate). `bandVariances`: the
    /// variance of each band cell (0 where no case can be), summed over the groups counted.
    static func run(_ cells: [Int64], bandVariances: [Double], sizeVariance: Double, followUp: FollowUp, z: Double) -> [Double] {
        let layout = Derivation.layout(.chargeByHorizon)
        let e = layout.count
        var raw = [Double](repeating: .nan, count: e)
        cells.withUnsafeBufferPointer { c in raw.withUnsafeMutableBufferPointer { Derivation.raw(.chargeByHorizon, c, $0) } }
        var fitted = [Double](repeating: .nan, count: e)
        cells.withUnsafeBufferPointer { Derivation.fit(.chargeByHorizon, $0, raw: raw, followUp: followUp, &fitted) }
        var spread = [Double](repeating: .nan, count: e)
        let total = raw[0]
        spread[0] = sizeVariance.squareRoot()
        var varianceCharged = 0.0, charged = 0.0
        for k in 0..<ChargeHorizons.horizons.count {
            varianceCharged += bandVariances[k]
            charged += Double(cells[k])
            if total >= Derivation.minimumRiskSet {
                let t2 = total * total
                spread[1 + k] = (varianceCharged / t2 + charged * charged * sizeVariance / (t2 * t2)).squareRoot()
            }
        }
        var out = [Double](repeating: .nan, count: 3 * e)
        for j in 0..<e {
            let (lo, hi) = Derivation.interval(fitted: fitted[j], raw: raw[j], spread: spread[j], unit: layout[j].unit, z: z)
            out[3 * j] = fitted[j]
            out[3 * j + 1] = lo
            out[3 * j + 2] = hi
        }
        return out
    }
}
