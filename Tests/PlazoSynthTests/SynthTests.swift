import Foundation
import PlazoAgency
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoSynth

@Suite("Synthetic jurisdiction")
struct SynthTests {
    func write(cases: Int, seed: UInt64) throws -> URL {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("plazo-synth-\(UUID().uuidString)")
        try SynthWriter.write(SynthConfiguration(cases: cases, seed: seed), to: dir)
        return dir
    }

    @Test("the same seed writes the same bytes; another seed does not")
    func deterministic() throws {
        let a = try write(cases: 500, seed: 7)
        let b = try write(cases: 500, seed: 7)
        let c = try write(cases: 500, seed: 8)
        for agency in SyntheticJurisdiction.agencies {
            let fa = try Data(contentsOf: a.appendingPathComponent(agency.file))
            #expect(fa == (try Data(contentsOf: b.appendingPathComponent(agency.file))))
            #expect(fa != (try Data(contentsOf: c.appendingPathComponent(agency.file))))
        }
    }

    @Test("exports read through the agency toolkit: dirty rows rejected, private columns dropped, cases linked across agencies")
    func exportsAreRealistic() throws {
        let dir = try write(cases: 3000, seed: 2026)
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 3, count: 32))),
            agencyType: .unknown, today: Day(year: 2026, month: 1, day: 1)!
        )
        var agenciesOfCase: [CasePseudonym: Set<Int>] = [:]
        var reports = Set<CasePseudonym>()
        var charged = Set<CasePseudonym>()
        var rejected = 0
        var rows = 0
        for (i, agency) in SyntheticJurisdiction.agencies.enumerated() {
            let summary = try reader.read(
                path: dir.appendingPathComponent(agency.file).path, options: ExportOptions(allowPartialCases: true), restart: {}
            ) { event in
                agenciesOfCase[event.pseudonym, default: []].insert(i)
                if event.type == .reportReceived { reports.insert(event.pseudonym) }
                if event.type == .chargeFiled { charged.insert(event.pseudonym) }
            }
            #expect(summary.droppedColumns == ["victim_name", "notes"])
            rejected += summary.rejected.count
            rows += summary.rows
        }
        // Dirty rows: 0.3 % of rows; a binomial(n, 0.003) lies within ±5 sd of its mean.
        let mean = Double(rows) * 0.003
        let sd = (mean * 0.997).squareRoot()
        #expect(abs(Double(rejected) - mean) < 5 * sd + 1, "rejected \(rejected) of \(rows)")
        // Referrals link cases across agencies (hotline → police, centre → prosecutors, police → prosecutors).
        let multiAgency = agenciesOfCase.values.filter { $0.count >= 2 }.count
        #expect(Double(multiAgency) > 0.3 * Double(reports.count))
        // Most reports never reach a charge; some do.
        let chargeRate = Double(charged.count) / Double(reports.count)
        #expect(chargeRate > 0.05 && chargeRate < 0.25, "charge rate \(chargeRate)")
        #expect(reports.count > 2900)  // nearly every case has its report (dirty rows aside)
    }

    @Test("generateEvents yields exactly the events the clean CSV exports hold")
    func directEventsMatchExports() throws {
        let configuration = SynthConfiguration(cases: 800, seed: 99, dirtyRowRate: 0)
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("plazo-synth-\(UUID().uuidString)")
        try SynthWriter.write(configuration, to: dir)
        let pseudonymizer = try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 3, count: 32)))
        var fromCSV: [String: Int] = [:]
        for agency in SyntheticJurisdiction.agencies {
            let reader = ExportReader(pseudonymizer: pseudonymizer, agencyType: try AgencyType.parse(agency.type), today: Day(year: 2026, month: 1, day: 1)!)
            let summary = try reader.read(path: dir.appendingPathComponent(agency.file).path, restart: {}) { e in
                var anonymous = e
                anonymous.pseudonym = CasePseudonym(low: 0, high: 0)
                fromCSV["\(anonymous)\(anonymous.attributes)\(anonymous.target.map { "\($0)" } ?? "")", default: 0] += 1
            }
            #expect(summary.rejected.isEmpty)
        }
        var direct: [String: Int] = [:]
        _ = SyntheticJurisdiction(configuration).generateEvents(pseudonym: { _ in CasePseudonym(low: 0, high: 0) }) { e, _ in
            direct["\(e)\(e.attributes)\(e.target.map { "\($0)" } ?? "")", default: 0] += 1
        }
        #expect(direct.values.reduce(0, +) > 3000)
        let differing = Set(direct.keys).union(fromCSV.keys).filter { direct[$0] != fromCSV[$0] }
        #expect(differing.isEmpty, "\(differing.count) event kinds differ, e.g. \(differing.first ?? "")")
    }
}
