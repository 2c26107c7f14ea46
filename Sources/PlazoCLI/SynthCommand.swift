import ArgumentParser
import Foundation
import PlazoModel
import PlazoSynth

/// `plazo synth`: writes a synthetic jurisdiction's agency exports.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate realistic synthetic agency CSV exports (deterministic for a seed).",
        discussion: """
            Writes one export per agency (hotline, national centre, police cyber unit, state \
            prosecutors) in the documented agency format, with referrals between agencies, delays \
            and attrition as described in docs/synthetic-data.md, a small share of dirty rows, and \
            two columns (victim_name, notes) that `plazo seal` must drop. Also writes agencies.json.
            """
    )

    @Option(name: .long, help: "Number of cases (reports).")
    var cases: Int = 20_000

    @Option(name: .long, help: "Seed: the same seed gives the same files.")
    var seed: UInt64 = 2026

    @Option(name: .long, help: "First report day (YYYY-MM-DD).")
    var from: String = "2022-01-01"

    @Option(name: .long, help: "Data cutoff (YYYY-MM-DD): no event after it is exported.")
    var cutoff: String = "2025-12-31"

    @Option(name: .long, help: "Share of dirty rows.")
    var dirtyRate: Double = 0.003

    @Option(name: .long, help: "Output directory.")
    var out: String = "synthetic"

    func run() throws {
        guard let first = Day(iso: from), let last = Day(iso: cutoff), first < last else {
            throw ValidationError("--from and --cutoff must be dates YYYY-MM-DD with --from before --cutoff")
        }
        let started = Date()
        let summary = try SynthWriter.write(
            SynthConfiguration(cases: cases, seed: seed, firstDay: first, cutoff: last, dirtyRowRate: dirtyRate),
            to: URL(fileURLWithPath: out)
        )
        print("cases \(summary.cases), rows \(summary.rows) (\(summary.dirtyRows) dirty) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        for (agency, rows) in zip(SyntheticJurisdiction.agencies, summary.rowsByAgency) {
            print("  \((out as NSString).appendingPathComponent(agency.file))  \(rows) rows  (\(agency.type))")
        }
    }
}
