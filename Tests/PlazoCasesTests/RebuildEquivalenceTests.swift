import PlazoCases
import PlazoModel
import PlazoRandom
import Testing

/// The log is the truth: state built incrementally, in any order, with duplicates and voids on
/// either side of their targets, must equal a fresh computation from the deduplicated set.
@Suite("rebuild equivalence")
struct RebuildEquivalenceTests {
    /// A random multiset of (event, submitting agency) over `caseCount` cases.
    static func randomSubmissions(caseCount: Int, using rng: inout SplitMix64) -> [(event: CaseEvent, agency: AgencyID)] {
        let agencyTypes: [AgencyType] = [.policeCyberUnit, .hotline, .stateProsecutor, .nationalCentre, .court]
        let agencies = (1...5).map { AgencyID(UInt32($0 * 10)) }
        var out: [(event: CaseEvent, agency: AgencyID)] = []
        for c in 0..<caseCount {
            let pseudonym = CasePseudonym(low: UInt64(c) &* 0x9E37_79B9, high: rng.next())
            let base = Int.random(in: 0...700, using: &rng)
            var events: [CaseEvent] = []
            // Most cases have a report, some two (conflicting or partial), some none.
            let reports = [0, 1, 1, 1, 1, 1, 2][Int.random(in: 0..<7, using: &rng)]
            for _ in 0..<reports {
                let attributes = CaseAttributes(
                    offence: OffenceCategory(rawValue: UInt8.random(in: 0...9, using: &rng))!,
                    ageBand: AgeBand(rawValue: UInt8.random(in: 0...4, using: &rng))!,
                    sex: VictimSex(rawValue: UInt8.random(in: 0...3, using: &rng))!,
                    state: MexicanState(rawValue: UInt8.random(in: 0...32, using: &rng))!,
                    channel: ReportChannel(rawValue: UInt8.random(in: 0...5, using: &rng))!
                )
                events.append(CaseEvent(
                    pseudonym: pseudonym, type: .reportReceived, day: day(base + Int.random(in: 0...3, using: &rng)),
                    attributes: attributes, agencyType: agencyTypes.randomElement(using: &rng)!
                ))
            }
            // Later events, in any type and roughly increasing days (sometimes before the report).
            for _ in 0..<Int.random(in: 0...8, using: &rng) {
                let type = EventType(rawValue: UInt8.random(in: 2...10, using: &rng))!
                let detail: UInt8 = switch type {
                case .referred: UInt8.random(in: 0...8, using: &rng)
                case .suspended: UInt8.random(in: 0...4, using: &rng)
                case .closedWithoutCharge: UInt8.random(in: 0...9, using: &rng)
                case .disposed: UInt8.random(in: 0...6, using: &rng)
                case .victimInformed: UInt8.random(in: 0...5, using: &rng)
                default: 0
                }
                events.append(CaseEvent(
                    pseudonym: pseudonym, type: type, detail: detail, day: day(base + Int.random(in: -10...400, using: &rng)),
                    agencyType: agencyTypes.randomElement(using: &rng)!
                ))
            }
            // Voids: mostly of an existing event, sometimes of nothing.
            for _ in 0..<[0, 0, 0, 1, 2][Int.random(in: 0..<5, using: &rng)] {
                let target: EventReference
                if let victim = events.filter({ $0.type != .void }).randomElement(using: &rng), Int.random(in: 0..<4, using: &rng) > 0 {
                    target = EventReference(type: victim.type, detail: victim.detail, day: victim.day)
                } else {
                    target = EventReference(type: .chargeFiled, detail: 0, day: day(base + 5))
                }
                events.append(CaseEvent(
                    pseudonym: pseudonym, type: .void, day: day(base + Int.random(in: 0...500, using: &rng)),
                    agencyType: .stateProsecutor, target: target
                ))
            }
            for e in events {
                // Each event is submitted by one to three agencies, some twice.
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    out.append((e, agencies.randomElement(using: &rng)!))
                }
            }
        }
        return out
    }

    static let cutoffs = [day(0), day(200), day(400), day(700), day(1500)]

    @Test("incremental state in many random orders equals a fresh computation from the deduplicated set")
    func rebuildEquivalence() throws {
        var rng = SplitMix64(seed: 20_261_129)
        let submissions = Self.randomSubmissions(caseCount: 300, using: &rng)

        // The deduplicated set, computed here independently of the index: one entry per
        // distinct event, attributed to its smallest submitting agency.
        var distinct: [CaseEvent: AgencyID] = [:]
        for (e, a) in submissions { distinct[e] = min(distinct[e] ?? a, a) }
        var byCase: [CasePseudonym: [(event: CaseEvent, agency: AgencyID)]] = [:]
        for (e, a) in distinct { byCase[e.pseudonym, default: []].append((e, a)) }
        var expected: [Day: [CasePseudonym: CaseEvaluation]] = [:]
        for cutoff in Self.cutoffs {
            for (p, events) in byCase { expected[cutoff, default: [:]][p] = CaseEvaluator.evaluate(events, asOf: cutoff) }
        }

        var firstSnapshot: [UInt8]?
        for round in 0..<20 {
            var order = submissions
            order.shuffle(using: &rng)
            var index = CaseIndex()
            var newCount = 0
            // Apply in batches; each batch groups consecutive submissions by agency.
            var start = 0
            while start < order.count {
                let agency = order[start].agency
                var end = start
                while end < order.count, order[end].agency == agency, end - start < 50 { end += 1 }
                let tally = index.apply(order[start..<end].map(\.event), from: agency)
                newCount += tally.new
                #expect(tally.invalid == 0)
                start = end
            }
            #expect(newCount == distinct.count, "round \(round): every distinct event counted once")
            #expect(index.eventCount == distinct.count)
            #expect(index.caseCount == byCase.count)
            for cutoff in Self.cutoffs {
                for p in byCase.keys {
                    #expect(index.evaluation(of: p, asOf: cutoff) == expected[cutoff]![p], "round \(round)")
                }
                var summaries = 0
                index.forEachSummary(asOf: cutoff) { _ in summaries += 1 }
                #expect(summaries == expected[cutoff]!.values.filter { $0.summary != nil }.count)
            }
            // Same set, same bytes: the snapshot is canonical.
            let snapshot = index.snapshot()
            if let firstSnapshot { #expect(snapshot == firstSnapshot, "round \(round)") } else { firstSnapshot = snapshot }
        }
        // And a reload from the snapshot is the same state again.
        let reloaded = try CaseIndex(snapshot: try #require(firstSnapshot))
        for p in byCase.keys { #expect(reloaded.evaluation(of: p, asOf: day(400)) == expected[day(400)]![p]) }
    }

    @Test("applying the whole log twice changes nothing and counts every event as a duplicate")
    func idempotence() {
        var rng = SplitMix64(seed: 7)
        let submissions = Self.randomSubmissions(caseCount: 100, using: &rng)
        var index = CaseIndex()
        for (e, a) in submissions { index.apply(e, from: a) }
        let before = index.snapshot()
        var tally = ApplyTally()
        for (e, a) in submissions { tally.add(index.apply(e, from: a)) }
        #expect(tally.new == 0)
        #expect(tally.duplicate == submissions.count)
        #expect(index.snapshot() == before)
    }

    @Test("the generator produces the situations the rules are about")
    func generatorCoverage() {
        var rng = SplitMix64(seed: 20_261_129)
        let submissions = Self.randomSubmissions(caseCount: 300, using: &rng)
        var byCase: [CasePseudonym: [(event: CaseEvent, agency: AgencyID)]] = [:]
        for s in submissions { byCase[s.event.pseudonym, default: []].append(s) }
        var seen: Set<CaseAnomaly> = []
        var statuses: Set<CaseStatus> = []
        for events in byCase.values {
            let e = CaseEvaluator.evaluate(events, asOf: day(1500))
            seen.formUnion(e.anomalies.map(\.kind))
            if let s = e.summary { statuses.insert(s.status) }
        }
        #expect(seen == Set(CaseAnomaly.allCases))
        #expect(statuses == Set(CaseStatus.allCases))
    }

    @Test("every summary of a random log keeps the invariants the release tables rely on")
    func summaryInvariants() {
        var rng = SplitMix64(seed: 99)
        let submissions = Self.randomSubmissions(caseCount: 400, using: &rng)
        var index = CaseIndex()
        for (e, a) in submissions { index.apply(e, from: a) }
        for cutoff in Self.cutoffs {
            index.forEachSummary(asOf: cutoff) { s in
                let days = [s.firstReferralDay, s.investigationDay, s.suspectIdentifiedDay, s.chargeDay, s.dispositionDay, s.closureDay, s.firstUpdateDay, s.lastUpdateDay].compactMap { $0 }
                #expect(days.allSatisfy { $0 >= s.firstReportDay && $0 <= s.cutoff }, "effective days lie between report and cutoff")
                #expect(s.firstReportDay <= s.cutoff)
                #expect((s.chargedOutcome != nil) == (s.chargeDay != nil), "charged outcome exactly for charged cases")
                #expect((s.status == .disposed) == (s.disposition != nil), "disposed exactly when a disposition stands")
                #expect(s.disposition == nil || s.chargeDay != nil, "every disposed case is charged")
                #expect((s.furthestStage >= .charged) == (s.chargeDay != nil))
                #expect((s.closureDay != nil) == (s.status == .closed))
                #expect(s.firstDecision.map { $0.day >= s.firstReportDay && $0.day <= s.cutoff } ?? true)
                #expect(s.firstDecision?.kind != .closure || s.status == .closed, "a closure decision stands")
                #expect(s.firstDecision != nil || s.isOpen, "a case without a decision is open (censored)")
                #expect(s.daysSuspended >= 0 && s.daysSuspended <= s.firstReportDay.days(to: s.cutoff))
                #expect(!s.noUpdateInLast90Days || s.isOpen)
                #expect((s.openAgeDays != nil) == s.isOpen)
                #expect(s.cohort == s.firstReportDay.quarter)
                #expect(s.firstUpdateDay == nil || s.firstUpdateDay! <= s.lastUpdateDay!)
            }
        }
    }
}
