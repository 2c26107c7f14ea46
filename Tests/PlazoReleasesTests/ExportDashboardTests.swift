import Foundation
import PlazoCases
import PlazoModel
@_spi(Testing) import PlazoPrivacy
@_spi(Testing) @testable import PlazoReleases
import PlazoStore
import Testing

@Suite struct ExportDashboardTests {
    static let cutoff = Day(iso: "2026-06-30")!

    func makeRelease(rho: String) async throws -> (Release, [CaseSummary]) {
        let cases = Synthetic.summaries(count: 4000, cohorts: [Quarter("2025Q1")!, Quarter("2025Q2")!], cutoff: Self.cutoff, seed: 31)
        let r = try await engine().create(
            spec: spec(cutoff: "2026-06-30", cohorts: ["2025Q1", "2025Q2"], rho: rho, breakdowns: [[], [.state, .offence]], replicates: 50),
            requester: "t", projection: CaseProjection(summaries: cases, cutoff: Self.cutoff), randomness: seeded(77))
        return (r, cases)
    }

    @Test func dataPackageDescribesEveryCSV() async throws {
        let (r, _) = try await makeRelease(rho: "1/10")
        let files = try ReleaseExport.dataPackage(r)
        #expect(files.count == 2 + 2 * r.tables.count)
        // Slashes are written as they are (the licence's URL, the resources' paths).
        let packageText = String(decoding: files[0].bytes, as: UTF8.self)
        #expect(packageText.contains(#""path" : "data/t1-"#) && packageText.contains("https://creativecommons.org/licenses/by/4.0/"))
        #expect(!packageText.contains(#"\/"#))
        let package = try #require(try JSONSerialization.jsonObject(with: Data(files[0].bytes)) as? [String: Any])
        #expect(files[0].path == "datapackage.json")
        let resources = try #require(package["resources"] as? [[String: Any]])
        #expect(resources.count == 2 * r.tables.count)
        for resource in resources {
            let path = try #require(resource["path"] as? String)
            let csv = try #require(files.first { $0.path == path })
            let lines = String(decoding: csv.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let schema = try #require(resource["schema"] as? [String: Any])
            let fields = try #require(schema["fields"] as? [[String: Any]]).map { $0["name"] as! String }
            #expect(lines.first.map { $0.split(separator: ",").map(String.init) } == fields, "\(path)")
            for line in lines.dropFirst().prefix(50) {
                #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == fields.count)
            }
            let privacy = try #require(resource["privacy"] as? [String: Any])
            #expect(privacy["rho"] as? String == "1/10")
        }
        // Count files: one row per cell.
        for t in r.tables.indices {
            let csv = files.first { $0.path == "data/\(ReleaseExport.tableName(r, table: t)).csv" }!
            let rows = String(decoding: csv.bytes, as: UTF8.self).split(separator: "\n").count - 1
            #expect(rows == r.tables[t].noisyCounts.count)
        }
        // The tar archive: 512-byte blocks, the first header names the first file.
        let tar = try ReleaseArchive.tar(files)
        #expect(tar.count % 512 == 0)
        #expect(String(decoding: tar[0..<16], as: UTF8.self) == "datapackage.json")
        // The API view of the release: every key snake_case (the stored metadata keeps its names).
        let view = try #require(try JSONSerialization.jsonObject(with: Data(try ReleaseExport.json(r))) as? [String: Any])
        let metadata = try #require(view["metadata"] as? [String: Any])
        #expect(metadata["confidence_level"] as? Double == r.metadata.confidenceLevel && metadata["confidenceLevel"] == nil)
        #expect(metadata["total_rho"] as? String == r.metadata.totalRho && metadata["ledger_spend_id"] != nil)
        func keys(_ value: Any) -> [String] {
            if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys) }
            if let array = value as? [Any] { return array.prefix(3).flatMap(keys) }
            return []
        }
        let camel = Set(keys(view)).filter { $0.contains(where: \.isUppercase) }
        #expect(camel.isEmpty, "camelCase keys in the release view: \(camel.sorted())")
        let table = try #require((view["tables"] as? [[String: Any]])?.first)
        let cell = try #require((table["cells"] as? [[String: Any]])?.first)
        #expect(cell["ci_low"] != nil && cell["ci_high"] != nil)
        // The stored document still uses the names it always had.
        let stored = try ReleaseDocument.encode(r)
        #expect(String(decoding: stored.prefix(4096), as: UTF8.self).contains(#""confidenceLevel""#))
        #expect(try ReleaseDocument.decode(stored).metadata == r.metadata)
    }

    @Test func dashboardSeriesMatchTheTablesAndAreReproducible() async throws {
        let (r, cases) = try await makeRelease(rho: "1000")
        // One stored group: the stored estimates, as points.
        let curve = try Dashboard.series(r, metric: .chargeIncidenceCurve, cohort: "2025Q1")
        #expect(curve.count == 24)
        #expect(curve.map(\.x) == Array(Reference.edges[1...]).map(String.init))
        let t1 = table(r, .timeToFirstDecision)
        for (k, p) in curve.enumerated() {
            let stored = r.estimate(table: t1, group: 0, estimate: 25 + k)
            #expect(p.value == (stored.value.isNaN ? nil : stored.value))
            #expect(p.status == stored.status)
            #expect(p.releaseID == r.metadata.id)
        }
        // A filter pools the cells of the finer table: Mexico City (09), both cohorts, all offences.
        let cdmx = cases.filter { $0.attributes.state.rawValue == 9 }
        let ref = Reference.lifeTable(Reference.decisionTimes(cdmx))
        let pooled = try Dashboard.series(r, metric: .chargeIncidenceCurve, filter: [.state: "09"])
        for (k, p) in pooled.enumerated() {
            // Pooled cohorts: published up to the longest follow-up among them.
            if p.status == .beyondFollowUp { #expect(p.value == nil); continue }
            #expect(abs(p.value! - ref.cif1[k]) < 1e-9)
        }
        #expect(pooled.contains { $0.status == .ok })
        #expect(try Dashboard.series(r, metric: .chargeIncidenceCurve, filter: [.state: "09"]) == pooled)
        // x = cohort metrics.
        let medians = try Dashboard.series(r, metric: .noUpdate90dShare, filter: [.offence: "online_grooming"])
        #expect(medians.map(\.x) == ["2025Q1", "2025Q2"])
        let funnel = try Dashboard.series(r, metric: .funnelShare, cohort: "2025Q2")
        #expect(funnel.map(\.x) == ["referred", "investigation", "suspect_identified", "charged", "convicted"])
        #expect(zip(funnel, funnel.dropFirst()).allSatisfy { $0.value! >= $1.value! })
        // Errors: unknown code, dimension not released.
        #expect(throws: ReleaseError.self) { try Dashboard.series(r, metric: .funnelShare, filter: [.state: "99"]) }
        #expect(throws: ReleaseError.self) { try Dashboard.series(r, metric: .funnelShare, filter: [.channel: "hotline"]) }
        #expect(throws: ReleaseError.self) { try Dashboard.series(r, metric: .funnelShare, cohort: "2019Q1") }
    }

    @Test func noisyOutputsRespectTheirConstraints() async throws {
        // Small budget, small cells: noisy counts go negative, published values never do.
        let (r, _) = try await makeRelease(rho: "1/1000")
        var sawNegative = false
        for t in r.tables.indices {
            let info = r.tables[t].info
            for g in 0..<r.tables[t].groupCount {
                for c in 0..<info.cellLabels.count {
                    let n = r.count(table: t, group: g, cell: c)
                    if n.noisy < 0 { sawNegative = true }
                    #expect(n.value >= 0 && n.low <= n.value && n.value <= n.high)
                }
                var previous: [String: Double] = [:]
                for (e, d) in info.estimates.enumerated() {
                    let v = r.estimate(table: t, group: g, estimate: e)
                    if v.value.isNaN { continue }
                    if d.unit == "proportion" { #expect((0...1).contains(v.value)) } else { #expect(v.value >= 0) }
                    if !v.low.isNaN { #expect(v.low <= v.value + 1e-12) }
                    if !v.high.isNaN { #expect(v.high >= v.value - 1e-12) }
                    // Monotone curves and funnel.
                    if let p = previous[d.name] {
                        switch d.name {
                        case "no_decision", "reached_count": #expect(v.value <= p + 1e-12)
                        case "cumulative_incidence_charge", "cumulative_incidence_closure", "updated_by": #expect(v.value >= p - 1e-12)
                        default: break
                        }
                    }
                    previous[d.name] = v.value
                }
            }
        }
        #expect(sawNegative)
    }
}
