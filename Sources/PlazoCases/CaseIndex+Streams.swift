import PlazoModel

// MARK: - Continual-release stream state (`docs/privacy-model.md` §4a)

/// A case's state in its cohort's continual-release stream, held at what the releases counted.
///
/// A cohort released continually publishes, at each of its releases, running totals of the cases
/// whose charge became observable (by charge band), over its **members**: the cases counted in it
/// by its first continual release (its size N is measured once, then). For the stream's privacy
/// analysis a case must enter the stream **once**, at one step and in one cell, and never move:
/// so a member's breakdown attributes are frozen when it joins, and its band and step when its
/// charge is first counted. Later corrections (a void of the charge, a corrected date or state)
/// are held at what was counted; cases reported after the first continual release are not
/// members. Like pins, this is derived state: a function of the stored releases and of the case
/// state each release saw, re-applied at start-up at each release's batch watermark.
///
/// Packed in a `UInt32` (0 = not a member):
/// - bit 31: member;
/// - bits 23–27: the step (1 … 31) at which the charge entered, 0 = not entered;
/// - bits 20–22: the charge band (0 … 3, ``bandDays``) when entered;
/// - bits 0–19: the frozen attributes: state (6 bits), offence (4), age band (3), channel (3),
///   reporting agency type (4).
public struct StreamEntry: Hashable, Sendable {
    /// The packed word.
    public let raw: UInt32

    /// Not a member.
    public static let none = StreamEntry(raw: 0)

    init(raw: UInt32) { self.raw = raw }

    /// Whether the case is a member of its cohort's stream.
    public var isMember: Bool { raw & 0x8000_0000 != 0 }
    /// The step at which its charge entered the stream (nil: not entered).
    public var entryStep: Int? {
        let s = Int((raw >> 23) & 0x1F)
        return s == 0 ? nil : s
    }
    /// The charge band (0 … 3) once entered.
    public var band: Int { Int((raw >> 20) & 0x7) }
    /// The frozen state code.
    public var state: UInt8 { UInt8(raw & 0x3F) }
    /// The frozen offence code.
    public var offence: UInt8 { UInt8((raw >> 6) & 0xF) }
    /// The frozen victim age band code.
    public var ageBand: UInt8 { UInt8((raw >> 10) & 0x7) }
    /// The frozen report channel code.
    public var channel: UInt8 { UInt8((raw >> 13) & 0x7) }
    /// The frozen reporting agency type code.
    public var agencyType: UInt8 { UInt8((raw >> 16) & 0xF) }

    /// The most steps a stream can have.
    public static let maxSteps = 31

    /// The band edges (days): band k holds first charges at t days with edges[k] ≤ t < edges[k + 1];
    /// a charge at 730 days or later is in no band (it never enters the stream).
    public static let bandDays = [0, 90, 180, 365, 730]

    /// The entry after release step `step` of the case's cohort has counted `summary`, from the
    /// entry it had before (`self`). Step 1 makes every case counted a member (attributes frozen);
    /// any step enters a member whose first decision is a charge within 730 days and which has not
    /// entered yet. A member that entered is never changed.
    ///
    /// `pinnedCohort` is the quarter number the release counts the case in (its pin, else its
    /// first report's quarter): days are measured as the release's tables measure them
    /// (``CaseSummary/asCounted(inCohort:)``).
    func after(step: Int, summary: CaseSummary, cohort: Int) -> StreamEntry {
        var raw = self.raw
        if raw & 0x8000_0000 == 0 {
            guard step == 1 else { return self }
            let a = summary.attributes
            raw = 0x8000_0000 | UInt32(a.state.rawValue & 0x3F) | UInt32(a.offence.rawValue & 0xF) << 6
                | UInt32(a.ageBand.rawValue & 0x7) << 10 | UInt32(a.channel.rawValue & 0x7) << 13
                | UInt32(summary.reportingAgencyType.rawValue & 0xF) << 16
        }
        guard (raw >> 23) & 0x1F == 0, let counted = summary.asCounted(inCohort: cohort),
            let decision = counted.firstDecision, decision.kind == .charge
        else { return StreamEntry(raw: raw) }
        let t = counted.firstReportDay.days(to: decision.day)
        guard t < 730 else { return StreamEntry(raw: raw) }
        let band: UInt32 = t < 90 ? 0 : t < 180 ? 1 : t < 365 ? 2 : 3
        return StreamEntry(raw: raw | UInt32(step & 0x1F) << 23 | band << 20)
    }
}

extension CaseSummary {
    /// The summary as a release counts it in cohort `cohort` (quarter number since 2000Q1), or
    /// nil when that quarter starts after the cutoff. Times of a case pinned to a quarter are
    /// measured from its current first report **clamped into that quarter**: a first report now
    /// earlier than the quarter counts from the quarter's first day (and so do the case's other
    /// days before it); one now later counts from the quarter's last day (`docs/privacy-model.md`
    /// §4). For an unpinned case (`cohort` = its first report's quarter) nothing changes.
    public func asCounted(inCohort cohort: Int) -> CaseSummary? {
        guard let quarter = Quarter(year: 2000 + cohort / 4, quarter: cohort % 4 + 1), let start = quarter.firstDay,
            let end = quarter.lastDay, start <= cutoff
        else { return nil }
        var s = self
        if s.firstReportDay > end {
            // Every other day of the case is on or after its first report, hence after `end`.
            s.firstReportDay = end
        } else if s.firstReportDay < start {
            func clamp(_ d: Day?) -> Day? { d.map { max($0, start) } }
            s.firstReportDay = start
            s.firstReferralDay = clamp(s.firstReferralDay)
            s.investigationDay = clamp(s.investigationDay)
            s.suspectIdentifiedDay = clamp(s.suspectIdentifiedDay)
            s.chargeDay = clamp(s.chargeDay)
            s.dispositionDay = clamp(s.dispositionDay)
            s.closureDay = clamp(s.closureDay)
            s.firstUpdateDay = clamp(s.firstUpdateDay)
            s.lastUpdateDay = clamp(s.lastUpdateDay)
        }
        return s
    }
}

extension CaseIndex {
    /// The stream entry of case number `c`.
    @inline(__always)
    func streamEntry(_ c: Int) -> StreamEntry { c < streams.count ? StreamEntry(raw: streams[c]) : .none }

    /// Calls `body` for every case counted (as of `cutoff`) in a cohort of `steps` (quarter number →
    /// the step this release is for that cohort's stream) with its stream entry **as it will be
    /// after** ``enterStreams(asOf:steps:)`` with the same arguments: what a continual release
    /// counts. Reads only.
    public func forEachStreamEntry(asOf cutoff: Day, steps: [Int: Int], _ body: (_ cohort: Int, StreamEntry) throws -> Void) rethrows {
        guard !steps.isEmpty else { return }
        try pins.withUnsafeBufferPointer { pins in
            try forEachNumberedSummary(asOf: cutoff, part: 0, of: 1) { c, summary in
                let p = pins[c]
                let cohort = p == 0 ? summary.firstReportDay.quarterNumber : Int(p) - 1
                guard let step = steps[cohort] else { return }
                let entry = streamEntry(c).after(step: step, summary: summary, cohort: cohort)
                if entry.isMember { try body(cohort, entry) }
            }
        }
    }

    /// Applies a continual release's step to every case it counted (see ``StreamEntry``): must see
    /// exactly the state the release's computation saw (the release path holds the store's writer
    /// from its computation to this call; the start-up replay calls it right after the release's
    /// batch watermark, after its pins). Call after ``pin(asOf:cohorts:)``. Returns the number of
    /// entries changed.
    @discardableResult
    public mutating func enterStreams(asOf cutoff: Day, steps: [Int: Int]) -> Int {
        guard !steps.isEmpty else { return 0 }
        var changes: [(Int, UInt32)] = []
        pins.withUnsafeBufferPointer { pins in
            forEachNumberedSummary(asOf: cutoff, part: 0, of: 1) { c, summary in
                let p = pins[c]
                let cohort = p == 0 ? summary.firstReportDay.quarterNumber : Int(p) - 1
                guard let step = steps[cohort] else { return }
                let before = streamEntry(c)
                let after = before.after(step: step, summary: summary, cohort: cohort)
                if after != before { changes.append((c, after.raw)) }
            }
        }
        guard !changes.isEmpty else { return 0 }
        // Allocated on first use: a service that never releases continually keeps 0 bytes per case.
        if streams.count < records.count { streams += [UInt32](repeating: 0, count: records.count - streams.count) }
        for (c, raw) in changes { streams[c] = raw }
        return changes.count
    }

    /// Every case with a stream entry, in pseudonym order (tests and audits; O(cases)).
    public func streamEntries() -> [(pseudonym: CasePseudonym, entry: StreamEntry)] {
        var out: [(pseudonym: CasePseudonym, entry: StreamEntry)] = []
        for c in streams.indices where streams[c] != 0 {
            out.append((CasePseudonym(low: records[c].low, high: records[c].high), StreamEntry(raw: streams[c])))
        }
        return out.sorted { ($0.pseudonym.high, $0.pseudonym.low) < ($1.pseudonym.high, $1.pseudonym.low) }
    }
}
