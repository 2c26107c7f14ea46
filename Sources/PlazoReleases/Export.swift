import Foundation
import PlazoModel

/// Researcher downloads of a stored release: CSV tables, a data dictionary, and the whole release
/// as a Frictionless Data Package (`datapackage.json` + CSVs), in memory; ``ReleaseArchive`` packs
/// it as one zip (the default) or tar archive.
///
/// Layout of the package (`docs/researcher-guide.md`):
/// ```
/// datapackage.json                     resources, field schemas, units, privacy parameters
/// README.md                            data dictionary (human-readable)
/// data/t1-time_to_first_decision.csv   noisy counts with intervals (one file per table)
/// data/t1-time_to_first_decision-estimates.csv   derived estimates with intervals
/// ...
/// ```
public enum ReleaseExport {
    /// The base file name of table `t` (`t7-time_to_first_decision-by-state-offence_category`).
    public static func tableName(_ release: Release, table t: Int) -> String {
        let info = release.tables[t].info
        let by = info.breakdown.isEmpty ? "" : "-by-" + info.breakdown.map(\.rawValue).joined(separator: "-")
        return "t\(t + 1)-\(info.kind.rawValue)\(by)"
    }

    /// Noisy counts of table `t` as CSV: one row per cell with its interval.
    ///
    /// Columns: `cohort`, one per breakdown dimension, the cell columns (`time_bin`, `outcome`, …;
    /// life tables add `bin_start_day`, `bin_end_day`), `noisy_count` (unbiased, may be negative),
    /// `count` (max(0, noisy_count)), `ci_low`, `ci_high`, then `reconciled_count` and `std_dev`:
    /// the least-squares estimate that makes the finer table add up to the national one
    /// (``Reconciliation``; the noisy count itself for a table that is not reconciled) and its
    /// standard deviation. `reconciled` is ``Reconciliation/cells(_:)``'s entry for this table,
    /// computed here when not given.
    public static func countsCSV(_ release: Release, table t: Int, reconciled: [Reconciliation.Cell]? = nil) -> [UInt8] {
        let info = release.tables[t].info
        let fitted = reconciled ?? Reconciliation.cells(release)[t]
        var out = ""
        var header = ["cohort"] + info.breakdown.map(\.rawValue) + info.kind.cellColumns
        if info.kind.isLifeTable { header += ["bin_start_day", "bin_end_day"] }
        header += ["noisy_count", "count", "ci_low", "ci_high", "reconciled_count", "std_dev"]
        out += header.joined(separator: ",") + "\n"
        let cells = info.cellLabels.count
        let parts = info.cellLabels.map { $0.split(separator: "|").map(String.init) }
        for g in 0..<release.tables[t].groupCount {
            let prefix = release.groupLabels(table: t, group: g).joined(separator: ",")
            for c in 0..<cells {
                let n = release.count(table: t, group: g, cell: c)
                var row = prefix + "," + parts[c].joined(separator: ",")
                if info.kind.isLifeTable {
                    let perBin = info.kind == .timeToFirstDecision ? 3 : 2
                    let k = c / perBin
                    row += ",\(TimeBins.edges[k]),\(TimeBins.upperEdge(k).map(String.init) ?? "")"
                }
                let fit = fitted[g * cells + c]
                row += ",\(n.noisy),\(n.value),\(n.low),\(n.high),\(decimal(fit.value)),\(decimal(fit.standardDeviation))\n"
                out += row
            }
        }
        return Array(out.utf8)
    }

    /// A real number for a CSV cell: 3 decimals, no exponent, no negative zero.
    static func decimal(_ v: Double) -> String {
        let text = String(format: "%.3f", v)
        return text == "-0.000" ? "0.000" : text
    }

    /// Derived estimates of table `t` as CSV: `cohort`, breakdown columns, `estimate`, `x`, `unit`,
    /// `value`, `ci_low`, `ci_high` (empty = absent or unbounded), `half_width`, `status`
    /// (``EstimateStatus``), `observed_until` (last horizon within follow-up, for curves and
    /// medians) and `reliable` (``Reliability``).
    public static func estimatesCSV(_ release: Release, table t: Int) -> [UInt8] {
        let info = release.tables[t].info
        var out = (["cohort"] + info.breakdown.map(\.rawValue)
            + ["estimate", "x", "unit", "value", "ci_low", "ci_high", "half_width", "status", "observed_until", "reliable"])
            .joined(separator: ",") + "\n"
        func f(_ v: Double?) -> String { v.map { $0.isNaN ? "" : String(format: "%.6g", $0) } ?? "" }
        for g in 0..<release.tables[t].groupCount {
            let prefix = release.groupLabels(table: t, group: g).joined(separator: ",")
            for (e, d) in info.estimates.enumerated() {
                let v = release.estimate(table: t, group: g, estimate: e)
                out += "\(prefix),\(d.name),\(d.x),\(d.unit),\(f(v.value)),\(f(v.low)),\(f(v.high)),\(f(v.halfWidth)),"
                out += "\(v.status.rawValue),\(v.observedUntil.map(String.init) ?? ""),\(v.reliable)\n"
            }
        }
        return Array(out.utf8)
    }

    /// A human-readable data dictionary (Markdown) of the whole release.
    public static func dataDictionary(_ release: Release) -> [UInt8] {
        let m = release.metadata
        var s = "# \(m.title)\n\n"
        s += "Release \(m.id), created \(ISO8601DateFormatter().string(from: m.createdAt)) by \(m.requester); data cutoff \(m.cutoff); "
        s += "cohorts (quarter of first report) \(m.cohorts.joined(separator: ", ")).\n\n"
        s += "Computed from \(m.batchesIncluded) batches from \(m.agenciesIncluded) agencies with \(m.codeVersion).\n\n"
        s += "## Privacy\n\nEvery count is protected by \(m.mechanism.rawValue) noise; each case contributes to at most one cell of each table "
        s += "(sensitivity 1). The release costs ρ = \(m.totalRho) (zCDP) for every cohort, equivalent to "
        s += m.epsilonDelta.map { String(format: "(ε = %.3f, δ = %g)", $0.epsilon, $0.delta) }.joined(separator: " or ") + "-DP for this release alone.\n\n"
        s += "## Intervals\n\n\(Int(m.confidenceLevel * 100)) % intervals. Counts: `[noisy − h, noisy + h]` clipped at 0, with h exact for the noise distribution "
        s += "(coverage ≥ \(Int(m.confidenceLevel * 100)) % for the true count). Derived estimates: a constrained fit of the noisy counts, "
        s += "with the interval raw ± z·SD over \(m.simulationReplicates) simulated re-noisings of the published counts (medians: the inverted band of the curve), "
        s += "covering the noise only, not sampling variation. Nothing is estimated past a cohort's longest possible follow-up (status beyond_follow_up); "
        s += "a median not reached within it reads not_reached. A share whose noisy denominator is 0 or less, or whose denominator's interval reaches 0, has no value "
        s += "(status insufficient_data). `reliable` is false when the interval is too wide to read. See docs/researcher-guide.md.\n\n"
        let pairs = Reconciliation.pairs(release)
        if !pairs.isEmpty {
            s += "## Reconciled counts\n\nIn every counts file, `reconciled_count` and `std_dev` are least-squares counts that make "
            s += pairs.map { "\(tableName(release, table: $0.child)) add up exactly to \(tableName(release, table: $0.parent))" }.joined(separator: "; ")
            s += " (unbiased, with their standard deviation); in the other tables they are the noisy count and the noise's SD.\n\n"
        }
        s += "## Tables\n\n"
        for (t, table) in release.tables.enumerated() {
            let i = table.info
            s += "### \(tableName(release, table: t))\n\n\(i.kind.definition)\n\n"
            s += "- breakdown: " + (i.pooling == .year ? "report year (" + release.cohortGroups(table: t).map(\.label).joined(separator: ", ") + "; complete years only)" : "cohort")
                + i.breakdown.map { " × \($0.rawValue) (\($0.cardinality) codes)" }.joined() + "\n"
            s += "- noise: \(i.noise), SD \(String(format: "%.4g", i.noiseStandardDeviation)), ρ = \(i.rho)\(i.epsilon.map { ", ε = \($0)" } ?? ""); "
            s += "count interval half-width h = \(i.halfWidth)\n"
            if let c = i.continual {
                s += "- released continually: each cohort's bands are one stream of \(c.horizon) releases (lifetime ρ = \(c.lifetimeRho)), "
                    + "its size measured once; this release's steps: "
                    + c.cohorts.map { "\($0.cohort) step \($0.step) (band SD \(String(format: "%.3g", $0.bandVariance.squareRoot())))" }.joined(separator: ", ")
                    + ". SD and h above are the least precise cohort's; `std_dev` in the counts file is each cohort's own\n"
            }
            s += "- cells per group: " + i.cellLabels.joined(separator: ", ") + "\n"
            s += "- estimates: " + Set(i.estimates.map { "\($0.name) (\($0.unit))" }).sorted().joined(separator: ", ") + "\n\n"
        }
        s += "## Codes\n\n"
        for d in BreakdownDimension.allCases {
            s += "- \(d.rawValue): " + zip(d.codes, d.meanings).map { "`\($0)` \($1)" }.joined(separator: "; ") + "\n"
        }
        return Array(s.utf8)
    }

    /// The whole release as a Frictionless Data Package: `datapackage.json`, `README.md` and two
    /// CSVs per table, as `(path, bytes)` pairs (serve them as an archive, e.g. with ``tar(_:modified:)``).
    /// Throws when `datapackage.json` cannot be encoded (never an empty file).
    public static func dataPackage(_ release: Release) throws -> [(path: String, bytes: [UInt8])] {
        let m = release.metadata
        var files: [(path: String, bytes: [UInt8])] = []
        var resources: [DataPackageJSON.Resource] = []
        let reconciled = Reconciliation.cells(release)
        typealias Field = DataPackageJSON.Field
        for (t, table) in release.tables.enumerated() {
            let i = table.info
            let name = tableName(release, table: t)
            let privacy = DataPackageJSON.Privacy(
                mechanism: m.mechanism.rawValue, sensitivity: i.sensitivity, rho: i.rho, epsilon: i.epsilon, noise: i.noise,
                noiseSD: i.noiseStandardDeviation, ciHalfWidth: i.halfWidth, confidenceLevel: m.confidenceLevel)
            var dims: [Field] = [
                i.pooling == .year
                    ? Field("cohort", "string", "Year of the case's first report (the table pools the four quarters of each complete year)",
                            codes: release.cohortGroups(table: t).map(\.label))
                    : Field("cohort", "string", "Quarter of the case's first report", codes: m.cohorts)
            ]
            dims += i.breakdown.map { Field($0.rawValue, "string", "Breakdown code (public code list)", codes: $0.codes) }
            var countFields = dims
            for column in i.kind.cellColumns {
                countFields.append(Field(column, "string", "Cell of the table"))
            }
            if i.kind.isLifeTable {
                countFields.append(Field("bin_start_day", "integer", "First day of the time bin (days since first report)", unit: "days"))
                countFields.append(Field("bin_end_day", "integer", "First day after the bin; empty for the open-ended bin", unit: "days"))
            }
            countFields += [
                Field("noisy_count", "integer", "True count plus noise (unbiased; may be negative)", unit: "cases"),
                Field("count", "integer", "max(0, noisy_count): the published count", unit: "cases"),
                Field("ci_low", "integer", "Lower end of the \(m.confidenceLevel) interval for the true count", unit: "cases"),
                Field("ci_high", "integer", "Upper end of the interval", unit: "cases"),
                Field(
                    "reconciled_count", "number",
                    "Least-squares estimate that makes the finer table of this kind add up exactly to the national one (unbiased, may be negative; the noisy count for a table that is not reconciled). See docs/researcher-guide.md",
                    unit: "cases"),
                Field("std_dev", "number", "Standard deviation of reconciled_count under the noise", unit: "cases"),
            ]
            files.append(("data/\(name).csv", countsCSV(release, table: t, reconciled: reconciled[t])))
            resources.append(DataPackageJSON.Resource(
                name: name.replacingOccurrences(of: "_", with: "-"), path: "data/\(name).csv", description: i.kind.definition,
                fields: countFields, privacy: privacy))
            files.append(("data/\(name)-estimates.csv", estimatesCSV(release, table: t)))
            resources.append(DataPackageJSON.Resource(
                name: name.replacingOccurrences(of: "_", with: "-") + "-estimates", path: "data/\(name)-estimates.csv",
                description: "Estimates derived from the noisy counts of \(name) (post-processing), with simulated intervals",
                fields: dims + [
                    Field("estimate", "string", "Estimate name (docs/metrics.md)"),
                    Field("x", "string", "Position: horizon in days, stage, outcome or band; empty for a scalar"),
                    Field("unit", "string", "cases, proportion or days"),
                    Field("value", "number", "The estimate; empty when absent (see status)"),
                    Field("ci_low", "number", "Lower end of the interval; empty when absent or unbounded"),
                    Field("ci_high", "number", "Upper end; empty when absent or unbounded (e.g. a median interval reaching past the follow-up)"),
                    Field("half_width", "number", "Half the interval's width; empty when an end is absent"),
                    Field(
                        "status", "string",
                        "ok; beyond_follow_up (past the cohort's longest possible follow-up, nothing is published); not_reached (a median not reached by day observed_until); undefined (no positive total); insufficient_data (a share whose noisy denominator is 0 or less, or whose denominator's interval reaches 0: no value)",
                        codes: EstimateStatus.allCases.map(\.rawValue)),
                    Field("observed_until", "integer", "For curves and medians: the last horizon within the cohort's follow-up", unit: "days"),
                    Field("reliable", "boolean", "false when the interval is too wide to read (proportions: half-width over 0.10; counts and days: over half the value) or absent"),
                ],
                privacy: privacy))
        }
        let package = DataPackageJSON(
            name: "plazo-release-\(m.id)", title: m.title, version: "\(m.id)", created: ISO8601DateFormatter().string(from: m.createdAt),
            description: "Differentially private case-outcome statistics, data cutoff \(m.cutoff). See README.md.",
            plazo: DataPackageJSON.Plazo(
                releaseID: m.id, cutoff: m.cutoff, cohorts: m.cohorts, mechanism: m.mechanism.rawValue, totalRho: m.totalRho,
                epsilonDelta: m.epsilonDelta.map { .init(epsilon: $0.epsilon, delta: $0.delta) }, confidenceLevel: m.confidenceLevel,
                batchesIncluded: m.batchesIncluded, agenciesIncluded: m.agenciesIncluded, codeVersion: m.codeVersion,
                simulationReplicates: m.simulationReplicates, simulationSeed: m.simulationSeed, batchWatermark: m.batchWatermark,
                cohortSpend: (m.cohortSpend ?? []).map {
                    .init(cohort: $0.cohort, spentRho: $0.spentRho, budgetRho: $0.budgetRho, epsilonAtDelta1e6: $0.epsilonAtDelta1e6)
                }),
            resources: resources)
        let json = try PlazoJSON.encode(package, pretty: true)
        return [("datapackage.json", json), ("README.md", dataDictionary(release))] + files
    }

    /// The release as JSON for API clients: metadata and, per table, every cell's count with its
    /// interval and every estimate with its interval (absent when NaN). Large for fine
    /// breakdowns. Names are snake_case (``PlazoJSON``, `snakeCase`): the view converts the
    /// stored metadata's names, which stay as they are in the stored document. Throws when the
    /// release cannot be encoded (never an empty body).
    public static func json(_ release: Release) throws -> [UInt8] {
        try PlazoJSON.encode(ReleaseJSON(release), snakeCase: true)
    }
}

/// The JSON shape of ``ReleaseExport/json(_:)`` (property names converted to snake_case there).
struct ReleaseJSON: Encodable {
    struct Cell: Encodable {
        var group: [String]; var cell: String; var noisy: Int64; var count: Int64; var ciLow: Int64; var ciHigh: Int64
        /// ``Reconciliation``: the least-squares count and its standard deviation.
        var reconciledCount: Double; var stdDev: Double
    }
    struct Est: Encodable {
        var group: [String]; var estimate: String; var x: String; var unit: String; var value: Double?; var ciLow: Double?; var ciHigh: Double?
        var status: EstimateStatus; var observedUntil: Int?; var reliable: Bool
    }
    struct Table: Encodable { var info: ReleasedTableInfo; var cells: [Cell]; var estimates: [Est] }
    var metadata: ReleaseMetadata
    var tables: [Table]

    init(_ r: Release) {
        metadata = r.metadata
        let reconciled = Reconciliation.cells(r)
        tables = r.tables.indices.map { t in
            let info = r.tables[t].info
            var cells: [Cell] = [], ests: [Est] = []
            for g in 0..<r.tables[t].groupCount {
                let labels = r.groupLabels(table: t, group: g)
                for (c, label) in info.cellLabels.enumerated() {
                    let n = r.count(table: t, group: g, cell: c)
                    let fit = reconciled[t][g * info.cellLabels.count + c]
                    cells.append(Cell(
                        group: labels, cell: label, noisy: n.noisy, count: n.value, ciLow: n.low, ciHigh: n.high,
                        reconciledCount: (fit.value * 1000).rounded() / 1000, stdDev: (fit.standardDeviation * 1000).rounded() / 1000))
                }
                for (e, d) in info.estimates.enumerated() {
                    let v = r.estimate(table: t, group: g, estimate: e)
                    ests.append(Est(group: labels, estimate: d.name, x: d.x, unit: d.unit, value: v.value.isNaN ? nil : v.value,
                                    ciLow: v.low.isNaN ? nil : v.low, ciHigh: v.high.isNaN ? nil : v.high,
                                    status: v.status, observedUntil: v.observedUntil, reliable: v.reliable))
                }
            }
            return Table(info: info, cells: cells, estimates: ests)
        }
    }
}
