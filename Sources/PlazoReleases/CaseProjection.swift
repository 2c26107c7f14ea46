import Dispatch
import Foundation
import PlazoCases
import PlazoModel

/// A compact, per-cutoff projection of every case onto what the release tables need: one 64-bit
/// word per case holding its cohort, its five breakdown attributes and its cell in each table kind.
///
/// Why: evaluating every case's events (``CaseIndex/forEachSummary(asOf:_:)``) costs about a second
/// per 10 million cases. A release needs only a few bits per case, so the engine evaluates each
/// cutoff once, keeps this projection (8 bytes per case), and every release at that cutoff
/// tabulates from it in one sequential pass on two cores (see `docs/metrics.md`, "Performance").
///
/// The projection holds un-noised per-case data: it has no public accessor, and only the release
/// engine reads it, to add noise.
public struct CaseProjection: Sendable {
    /// The cutoff the cases were evaluated as of.
    public let cutoff: Day
    /// One packed word per case (layout in ``Layout``).
    let codes: [UInt64]

    /// Evaluates every case of `index` as of `cutoff` (O(cases); about 1.2 s per 10M cases). A
    /// pinned case is placed in its pinned cohort (``code(of:pinnedCohort:)``).
    ///
    /// Evaluating the cases is the one O(cases) step of a release; it runs on two threads for
    /// large indexes (each evaluates a disjoint part of the cases; the codes are concatenated).
    public init(index: CaseIndex, cutoff: Day) {
        let parts = index.caseCount >= 1 << 16 ? 2 : 1
        let results = UnsafeSendableBox([[UInt64]](repeating: [], count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            var codes: [UInt64] = []
            codes.reserveCapacity(index.caseCount / parts + 1)
            index.forEachPinnedSummary(asOf: cutoff, part: part, of: parts) { summary, pin in
                if let word = Self.code(of: summary, pinnedCohort: pin) { codes.append(word) }
            }
            results.withValue { $0[part] = codes }
        }
        self.cutoff = cutoff
        self.codes = parts == 1 ? results.value[0] : results.value.flatMap { $0 }
    }

    /// Projects summaries evaluated as of `cutoff` (tests, or a caller with its own summaries).
    /// Every summary must have been evaluated as of `cutoff`.
    public init(summaries: some Sequence<CaseSummary>, cutoff: Day) {
        self.cutoff = cutoff
        self.codes = summaries.map { s in
            precondition(s.cutoff == cutoff, "summary evaluated at another cutoff")
            return Self.code(of: s)
        }
    }

    /// Concatenates projections of disjoint sets of cases made at the same cutoff (e.g. built in
    /// chunks). Precondition: at least one part, all at one cutoff.
    public init(merging parts: [CaseProjection]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.cutoff == parts[0].cutoff }, "projections at different cutoffs")
        self.cutoff = parts[0].cutoff
        self.codes = parts.flatMap(\.codes)
    }

    init(cutoff: Day, codes: [UInt64]) {
        self.cutoff = cutoff
        self.codes = codes
    }

    /// Bit positions of the packed word.
    enum Layout {
        static let cohort = (shift: 0, width: 10)
        static func dimension(_ d: BreakdownDimension) -> (shift: Int, width: Int) {
            switch d {
            case .state: (10, 6)
            case .offence: (16, 4)
            case .ageBand: (20, 3)
            case .channel: (23, 3)
            case .agencyType: (26, 4)
            }
        }
        static func table(_ t: TableKind) -> (shift: Int, width: Int) {
            switch t {
            case .timeToFirstDecision: (30, 7)
            case .attrition: (37, 3)
            case .dispositions: (40, 3)
            case .backlog: (43, 4)
            case .victimUpdateTime: (47, 6)
            case .victimUpdateRecency: (53, 2)
            case .chargeByHorizon: (55, 3)
            }
        }
    }

    /// The cohort number of a quarter: (year − 2000)·4 + quarter − 1 (10 bits: up to 2255Q4).
    static func cohortNumber(_ q: Quarter) -> Int { (q.year - 2000) * 4 + q.quarter - 1 }

    /// Packs one case as a release counts it: in its pinned cohort when it has one
    /// (`docs/privacy-model.md` §4, "Pinned cohorts"), or nil when that cohort starts after
    /// `cutoff` (a release at such a cutoff cannot name the cohort, so the case is in none).
    ///
    /// Times of a pinned case are measured from its current first report **clamped into the
    /// pinned quarter**: a first report now earlier than the quarter counts from the quarter's
    /// first day (and so do the case's other days before it); one now later than the quarter
    /// counts from the quarter's last day. Every time of a pinned case therefore lies in its
    /// pinned cohort's public support (follow-up between cutoff − last day and cutoff − first day
    /// of the quarter), so a case that moved is never counted in a cell its cohort could not
    /// otherwise reach, and its times stay defined whatever its reports become.
    static func code(of s: CaseSummary, pinnedCohort: Int?) -> UInt64? {
        guard let q = pinnedCohort else { return code(of: s) }
        // The clamping is defined once, in PlazoCases, where the continual-release stream entries
        // measure a pinned case's charge the same way (``CaseSummary/asCounted(inCohort:)``).
        guard let counted = s.asCounted(inCohort: q) else { return nil }
        return (code(of: counted) & ~UInt64(0x3FF)) | UInt64(q & 0x3FF)
    }

    /// Packs one case. Each table field is the case's one cell in that table (or 0 = no cell for
    /// tables whose ``TableKind/hasNoneCode``), which is what makes every table's sensitivity 1.
    static func code(of s: CaseSummary) -> UInt64 {
        var w = UInt64(s.firstReportDay.quarterNumber & 0x3FF)  // = cohortNumber(s.cohort)
        func put(_ value: Int, _ field: (shift: Int, width: Int)) {
            w |= (UInt64(value) & ((1 << UInt64(field.width)) - 1)) << UInt64(field.shift)
        }
        put(Int(s.attributes.state.rawValue), Layout.dimension(.state))
        put(Int(s.attributes.offence.rawValue), Layout.dimension(.offence))
        put(Int(s.attributes.ageBand.rawValue), Layout.dimension(.ageBand))
        put(Int(s.attributes.channel.rawValue), Layout.dimension(.channel))
        put(Int(s.reportingAgencyType.rawValue), Layout.dimension(.agencyType))

        // Table 1: one first decision, or censored at the cutoff (a case with neither a charge nor
        // a standing closure is open, hence censored at its follow-up time).
        let followUp = s.firstReportDay.days(to: s.cutoff)
        if let decision = s.firstDecision {
            let t = s.firstReportDay.days(to: decision.day)
            put(TimeBins.bin(t) * 3 + (decision.kind == .charge ? 0 : 1), Layout.table(.timeToFirstDecision))
        } else {
            put(TimeBins.bin(followUp) * 3 + 2, Layout.table(.timeToFirstDecision))
        }
        // Table 2: the furthest stage (unique).
        put(Int(s.furthestStage.rawValue), Layout.table(.attrition))
        // Table 3: charged cases only, one outcome each.
        if let outcome = s.chargedOutcome { put(Int(outcome.rawValue) + 1, Layout.table(.dispositions)) }
        // Table 4: open cases only, one (age band, status) each.
        if let age = s.openAgeDays {
            put(1 + BacklogBands.band(age) * 2 + (s.status == .suspended ? 1 : 0), Layout.table(.backlog))
        }
        // Table 5a: first update, or censored at the cutoff.
        if let t = s.daysToFirstUpdate {
            put(TimeBins.bin(t) * 2, Layout.table(.victimUpdateTime))
        } else {
            put(TimeBins.bin(followUp) * 2 + 1, Layout.table(.victimUpdateTime))
        }
        // Table 5b: open cases only, with or without contact in the last 90 days.
        if s.isOpen { put(s.noUpdateInLast90Days ? 1 : 2, Layout.table(.victimUpdateRecency)) }
        // Table 6: days to the first decision when it is a charge (the charge incidence's event:
        // a closure first competes and is not a charge), by headline band.
        if let decision = s.firstDecision, decision.kind == .charge {
            put(ChargeHorizons.cell(s.firstReportDay.days(to: decision.day)), Layout.table(.chargeByHorizon))
        } else {
            put(ChargeHorizons.cell(nil), Layout.table(.chargeByHorizon))
        }
        return w
    }
}

/// How one requested table maps packed words to cell indices.
struct TabulationPlan: Sendable {
    var kind: TableKind
    var dimensions: [BreakdownDimension]
    /// Number of groups on the outermost axis (cohorts, or pooled cohort groups).
    var cohortCount: Int
    /// The groups of the outermost axis (indices of the release's cohorts); nil = one per cohort.
    var cohortGroups: [CohortGroup]? = nil

    /// For each cohort slot (index of the release's cohorts), its group on the outermost axis, or
    /// −1 when the table counts none of that cohort's cases (a quarter of an incomplete year).
    func groupOfSlot(cohorts: Int) -> [Int] {
        guard let cohortGroups else { return Array(0..<cohorts) }
        var out = [Int](repeating: -1, count: cohorts)
        for (g, group) in cohortGroups.enumerated() { for c in group.cohorts { out[c] = g } }
        return out
    }

    var groupsPerCohort: Int { dimensions.reduce(1) { $0 * $1.cardinality } }
    var groupCount: Int { cohortCount * groupsPerCohort }
    var cellCount: Int { groupCount * kind.cellsPerGroup }
}

extension CaseProjection {
    /// The exact (un-noised) counts of every planned table, over the cases of the released cohorts.
    /// Internal: these numbers never leave the module except through a noise mechanism.
    ///
    /// One fused pass over the packed words (each word is read once and counted in every table),
    /// split in two halves run on two threads with their own counters, summed at the end:
    /// O(cases) with a small constant, then O(cells).
    func tabulate(_ plans: [TabulationPlan], cohortSlots: [Int16]) -> [[Int64]] {
        precondition(cohortSlots.count == 1024)
        // Per plan: [cellShift, cellMask, none(0/1), cellsPerGroup, offset, dimCount, (shift, mask, card) × 2].
        var params: [Int] = []
        var offsets: [Int] = []
        var total = 0
        // Per plan, the group of each cohort slot (pooled tables map several slots to one group).
        let slotCount = Int(cohortSlots.max() ?? -1) + 1
        var groupOf: [Int] = []
        for p in plans { groupOf += p.groupOfSlot(cohorts: slotCount) }
        for p in plans {
            let f = Layout.table(p.kind)
            params += [f.shift, (1 << f.width) - 1, p.kind.hasNoneCode ? 1 : 0, p.kind.cellsPerGroup, total, p.dimensions.count]
            for k in 0..<2 {
                if k < p.dimensions.count {
                    let d = Layout.dimension(p.dimensions[k])
                    params += [d.shift, (1 << d.width) - 1, p.dimensions[k].cardinality]
                } else {
                    params += [0, 0, 1]
                }
            }
            offsets.append(total)
            total += p.cellCount
        }
        let stride = 12
        let planCount = plans.count
        let chunks = codes.count >= 1 << 16 ? 2 : 1
        let partials = UnsafeSendableBox([[Int64]](repeating: [], count: chunks))
        let codes = self.codes
        let frozen = params
        let slotGroups = groupOf
        let size = total
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = codes.count * chunk / chunks
            let hi = codes.count * (chunk + 1) / chunks
            var out = [Int64](repeating: 0, count: size)
            codes.withUnsafeBufferPointer { words in
                frozen.withUnsafeBufferPointer { p in
                    cohortSlots.withUnsafeBufferPointer { slots in
                        slotGroups.withUnsafeBufferPointer { slotGroup in
                        out.withUnsafeMutableBufferPointer { counts in
                            for i in lo..<hi {
                                let w = words[i]
                                let slot = Int(slots[Int(w & 0x3FF)])
                                if slot < 0 { continue }
                                for t in 0..<planCount {
                                    let b = t * stride
                                    var cell = Int(truncatingIfNeeded: w >> UInt64(p[b])) & p[b + 1]
                                    if p[b + 2] == 1 {
                                        if cell == 0 { continue }
                                        cell -= 1
                                    }
                                    var group = slotGroup[t * slotCount + slot]
                                    if group < 0 { continue }  // a quarter outside the table's pooled years
                                    if p[b + 5] > 0 {
                                        group = group * p[b + 8] + (Int(truncatingIfNeeded: w >> UInt64(p[b + 6])) & p[b + 7])
                                        if p[b + 5] > 1 {
                                            group = group * p[b + 11] + (Int(truncatingIfNeeded: w >> UInt64(p[b + 9])) & p[b + 10])
                                        }
                                    }
                                    counts[p[b + 4] + group * p[b + 3] + cell] &+= 1
                                }
                            }
                        }
                        }
                    }
                }
            }
            partials.withValue { $0[chunk] = out }
        }
        var flat = partials.value[0]
        for c in 1..<chunks { for i in flat.indices { flat[i] += partials.value[c][i] } }
        return plans.indices.map { Array(flat[offsets[$0]..<(offsets[$0] + plans[$0].cellCount)]) }
    }
}

/// A lock-protected box for results written by concurrent workers.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    func withValue<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&stored)
    }
    var value: T { withValue { $0 } }
}

/// Keeps the projections of the last few cutoffs, so that repeated releases at one cutoff (e.g. a
/// steward's quarterly batch of releases, or a retry) evaluate the cases once. An entry is reused
/// only while the index holds the same number of events (every accepted event, including a void,
/// raises ``CaseIndex/eventCount``) and of pins (``CaseIndex/pinnedCount``), so a projection never
/// outlives the data it was made from.
///
/// Thread-safe; the evaluation itself runs outside the lock.
public final class ProjectionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(cutoff: Day, events: Int, pins: Int, projection: CaseProjection)] = []
    private let capacity: Int

    /// A cache of at most `capacity` cutoffs (default 4; each costs 8 bytes per case).
    public init(capacity: Int = 4) { self.capacity = max(1, capacity) }

    /// The projection of `index` as of `cutoff`, from the cache when still valid.
    public func projection(of index: CaseIndex, cutoff: Day) -> CaseProjection {
        let events = index.eventCount
        // Pins change the projection without changing the events: a release's pinning makes
        // earlier projections stale (pins are only added, so their count versions them).
        let pins = index.pinnedCount
        lock.lock()
        if let hit = entries.first(where: { $0.cutoff == cutoff && $0.events == events && $0.pins == pins }) {
            lock.unlock()
            return hit.projection
        }
        lock.unlock()
        let fresh = CaseProjection(index: index, cutoff: cutoff)
        lock.lock()
        entries.removeAll { $0.cutoff == cutoff }
        entries.append((cutoff, events, pins, fresh))
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        lock.unlock()
        return fresh
    }
}
