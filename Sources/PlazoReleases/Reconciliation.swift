import PlazoPrivacy

/// Counts that add up: least-squares reconciliation of a national table with its breakdown by
/// state (or any finer breakdown of the same table kind) in one release, as the US Census
/// Bureau's 2020 post-processing and its 2025 least-squares product do (Hay, Rastogi, Miklau &
/// Suciu 2010; Cumings-Menon et al., arXiv 2404.13164): an unbiased estimate and a standard
/// deviation for every cell, and finer cells that sum exactly to the coarser one.
///
/// ## The estimator
/// For one cell label of one cohort, the national table gives y₀ = N + Z₀ (variance v₀) and the
/// finer table gives yᵢ = nᵢ + Zᵢ (variance v₁ each) for its k cells i with Σᵢ nᵢ = N, all noises
/// independent. The generalised least-squares fit, minimising (y₀ − Σxᵢ)²/v₀ + Σᵢ(yᵢ − xᵢ)²/vᵢ, is
///
///     r = y₀ − Σᵢ yᵢ,  V = v₀ + Σᵢ vᵢ,  xᵢ = yᵢ + (vᵢ/V)·r,  x₀ = Σᵢ xᵢ.
///
/// It is unbiased (E r = 0) and the national figure becomes the inverse-variance combination of y₀
/// and Σyᵢ: Var x₀ = 1/(1/v₀ + 1/Σvᵢ). Each finer cell gains a little: Var xᵢ = vᵢ − vᵢ²/V.
///
/// ## Why it matters at realistic volumes
/// With 33 state cells of variance v₁, summing the states gives a national figure of variance 33·v₁.
/// Spending a tenth of a table's ρ on the national table (v₀ = 10·v) and the rest on the states
/// (v₁ = v/0.9) gives Var x₀ = 3.93·v against 16.5·v for all of ρ on the states and summing: the
/// national interval 2.05 times narrower, for 8.5 % more variance per state cell (`ReconciliationTests`).
///
/// Post-processing of noisy counts and the public noise variances only: no budget. The derived
/// estimates (curves, shares, medians) and the dashboards are still computed from each table's own
/// noisy counts; the reconciled counts are published beside them (`docs/researcher-guide.md`).
public enum Reconciliation {
    /// A reconciled count: the estimate (real-valued, unbiased, may be negative) and its standard
    /// deviation under the noise.
    public struct Cell: Sendable, Hashable {
        /// The estimate.
        public var value: Double
        /// Its standard deviation.
        public var standardDeviation: Double
    }

    /// The generalised least-squares fit of one parent count and the counts that partition it
    /// (module documentation). Variances must be positive.
    public static func reconcile(
        parent y0: Double, parentVariance v0: Double, children y: [Double], childVariances v: [Double]
    ) -> (parent: Cell, children: [Cell]) {
        precondition(y.count == v.count && !y.isEmpty, "one variance per child, at least one child")
        let total = v.reduce(0, +)
        let big = v0 + total
        let residual = y0 - y.reduce(0, +)
        var children: [Cell] = []
        children.reserveCapacity(y.count)
        var sum = 0.0
        for i in y.indices {
            let x = y[i] + v[i] / big * residual
            sum += x
            children.append(Cell(value: x, standardDeviation: (v[i] - v[i] * v[i] / big).squareRoot()))
        }
        return (Cell(value: sum, standardDeviation: (1 / (1 / v0 + 1 / total)).squareRoot()), children)
    }

    /// Which tables of `release` are reconciled: for each table kind with a national table
    /// (no breakdown besides the cohort), that table and the kind's next-finest table (the fewest
    /// cells per cohort among the others). Returns `(parent, child)` table indices. One level per
    /// kind: a third table of the same kind, and any table pooled by year, keeps its own noisy counts.
    public static func pairs(_ release: Release) -> [(parent: Int, child: Int)] {
        var out: [(parent: Int, child: Int)] = []
        for kind in TableKind.allCases {
            // Only tables over the same cohort axis can be reconciled cell by cell.
            // Continual tables have a variance per cohort and a total measured once: left as published.
            let tables = release.tables.indices.filter {
                release.tables[$0].info.kind == kind && release.tables[$0].info.pooling == nil && release.tables[$0].info.continual == nil
            }
            guard let parent = tables.first(where: { release.tables[$0].info.breakdown.isEmpty }) else { continue }
            let others = tables.filter { $0 != parent }
            guard let child = others.min(by: { release.tables[$0].info.groupsPerCohort < release.tables[$1].info.groupsPerCohort })
            else { continue }
            out.append((parent, child))
        }
        return out
    }

    /// Every cell of every table of `release`, reconciled where the table is in a pair
    /// (``pairs(_:)``), else its noisy count with the noise's standard deviation. Indexed like
    /// ``ReleasedTable/noisyCounts``.
    public static func cells(_ release: Release) -> [[Cell]] {
        var out = release.tables.map { t in
            guard let continual = t.info.continual else {
                return t.noisyCounts.map { Cell(value: Double($0), standardDeviation: t.info.noiseStandardDeviation) }
            }
            // A continual table's cells: each cohort's own standard deviations.
            let cells = t.info.cellLabels.count
            return t.noisyCounts.indices.map { i in
                let cohort = continual.cohorts[i / cells / t.info.groupsPerCohort]
                return Cell(value: Double(t.noisyCounts[i]), standardDeviation: cohort.cellStandardDeviations[i % cells])
            }
        }
        for (p, c) in pairs(release) {
            let parent = release.tables[p], child = release.tables[c]
            let cells = parent.info.cellLabels.count
            let perCohort = child.info.groupsPerCohort
            let v0 = parent.info.noiseStandardDeviation * parent.info.noiseStandardDeviation
            let v1 = child.info.noiseStandardDeviation * child.info.noiseStandardDeviation
            let variances = [Double](repeating: v1, count: perCohort)
            for cohort in 0..<parent.groupCount {
                for cell in 0..<cells {
                    let y = (0..<perCohort).map { g in Double(child.noisyCounts[(cohort * perCohort + g) * cells + cell]) }
                    let fit = reconcile(
                        parent: Double(parent.noisyCounts[cohort * cells + cell]), parentVariance: v0, children: y, childVariances: variances)
                    out[p][cohort * cells + cell] = fit.parent
                    for g in 0..<perCohort { out[c][(cohort * perCohort + g) * cells + cell] = fit.children[g] }
                }
            }
        }
        return out
    }
}
