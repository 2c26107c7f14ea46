import PlazoModel

// MARK: - Pinned cohorts (`docs/privacy-model.md` §4)

/// A case's cohort as a release counts it: its pinned cohort once a release has included it,
/// else the quarter of its current first report.
///
/// Why pins: the ledger composes spends in parallel across cohorts, which is sound only if a case
/// is counted in one cohort for its whole life. A corrected first report (a late report with an
/// earlier date, or a `void` of the first report) would otherwise move the case into a second
/// cohort whose spends also cover it. Pinning fixes the cohort at the first release that
/// includes the case, so every release counts it under that one cohort.
extension CaseIndex {
    /// The cohort number (quarters since 2000Q1) a release counts case `c` in, given its summary.
    @inline(__always)
    func effectiveCohortNumber(case c: Int, summary: CaseSummary) -> Int {
        let p = pins[c]
        return p == 0 ? summary.firstReportDay.quarterNumber : Int(p) - 1
    }

    /// Calls `body` with every case's summary as of `cutoff` (as ``forEachSummary(asOf:part:of:_:)``)
    /// and its pinned cohort number (quarters since 2000Q1), or nil when it is not pinned yet.
    public func forEachPinnedSummary(
        asOf cutoff: Day, part: Int, of parts: Int, _ body: (CaseSummary, _ pinnedCohort: Int?) throws -> Void
    ) rethrows {
        try pins.withUnsafeBufferPointer { pins in
            try forEachNumberedSummary(asOf: cutoff, part: part, of: parts) { c, summary in
                let p = pins[c]
                try body(summary, p == 0 ? nil : Int(p) - 1)
            }
        }
    }

    /// Like ``forEachPinnedSummary(asOf:part:of:_:)`` over the whole index, with each case's
    /// pseudonym: for the continual release's per-case stream state (`docs/privacy-model.md` §4a),
    /// which is keyed by pseudonym so that it survives restarts and is shared by replicas.
    public func forEachPinnedCase(asOf cutoff: Day, _ body: (CasePseudonym, CaseSummary, _ pinnedCohort: Int?) throws -> Void) rethrows {
        try pins.withUnsafeBufferPointer { pins in
            try records.withUnsafeBufferPointer { records in
                try forEachNumberedSummary(asOf: cutoff, part: 0, of: 1) { c, summary in
                    let p = pins[c]
                    try body(CasePseudonym(low: records[c].low, high: records[c].high), summary, p == 0 ? nil : Int(p) - 1)
                }
            }
        }
    }

    /// Pins every case that a release with `cutoff` and `cohorts` (cohort numbers, quarters since
    /// 2000Q1) counted and that is not pinned yet, to the cohort the release counted it in: its
    /// current first report's quarter. Returns the number of cases pinned now.
    ///
    /// Must see exactly the state the release's projection saw (the release path holds the
    /// store's writer from projection to pinning, and the start-up replay calls this right after
    /// the release's batch watermark), so that the pins are a function of the stored releases and
    /// the batch log alone.
    @discardableResult
    public mutating func pin(asOf cutoff: Day, cohorts: some Sequence<Int>) -> Int {
        var released = [Bool](repeating: false, count: 1 << 16)
        for q in cohorts where (0..<(1 << 16) - 1).contains(q) { released[q] = true }
        var chosen: [(Int, UInt16)] = []
        pins.withUnsafeBufferPointer { pins in
            forEachNumberedSummary(asOf: cutoff, part: 0, of: 1) { c, summary in
                guard pins[c] == 0 else { return }
                let q = summary.firstReportDay.quarterNumber
                if released[q] { chosen.append((c, UInt16(q + 1))) }
            }
        }
        for (c, p) in chosen { pins[c] = p }
        pinnedCount += chosen.count
        return chosen.count
    }

    /// The pinned cohort number (quarters since 2000Q1) of a case, or nil (unknown or not pinned).
    public func pinnedCohortNumber(of pseudonym: CasePseudonym) -> Int? {
        guard let c = caseNumber(of: pseudonym), pins[c] != 0 else { return nil }
        return Int(pins[c]) - 1
    }

    /// Every pinned case and its cohort number, in pseudonym order: what a restart must restore
    /// identically (tests and audits; O(cases)).
    public func pinnedCohorts() -> [(pseudonym: CasePseudonym, cohort: Int)] {
        var out: [(pseudonym: CasePseudonym, cohort: Int)] = []
        for c in records.indices where pins[c] != 0 {
            out.append((CasePseudonym(low: records[c].low, high: records[c].high), Int(pins[c]) - 1))
        }
        return out.sorted { ($0.pseudonym.high, $0.pseudonym.low) < ($1.pseudonym.high, $1.pseudonym.low) }
    }
}
