import Foundation
import PlazoCases
import PlazoModel
import PlazoRandom
import Testing

@Suite("case state rules")
struct CaseRulesTests {
    // MARK: Report, cohort, attributes

    @Test("a case's cohort, first report day and attributes come from its earliest report")
    func earliestReport() throws {
        let other = CaseAttributes(offence: .sexualExtortion, ageBand: .age16to17, sex: .male, state: MexicanState(rawValue: 14)!, channel: .hotline)
        let s = try #require(summary([report(40, other, by: .hotline), report(10), event(.referred, 20, detail: 3)], asOf: 100))
        #expect(s.firstReportDay == day(10))
        #expect(s.cohort == Quarter(year: 2024, quarter: 1))
        #expect(s.attributes == grooming13)
        #expect(s.reportingAgencyType == .stateProsecutor)
    }

    @Test("same-day reports are ordered by their content, so the choice does not depend on arrival")
    func sameDayReportsTieBreak() throws {
        let a = report(5, grooming13, by: .policeCyberUnit)
        let b = report(5, CaseAttributes(offence: .csamPossession, ageBand: .age0to9, sex: .male, state: MexicanState(rawValue: 1)!, channel: .thirdParty), by: .hotline)
        let s1 = try #require(summary([a, b], asOf: 10))
        let s2 = try #require(summary([b, a], asOf: 10))
        #expect(s1 == s2)
        #expect(s1.reportingAgencyType == .policeCyberUnit)  // agency type 1 sorts before 2
    }

    @Test("unknown attributes of the chosen report are filled from later reports, and conflicts are flagged")
    func attributeFillAndConflict() throws {
        let partial = CaseAttributes(offence: .onlineGrooming, ageBand: .unknown, sex: .unknown, state: .unknown, channel: .unknown)
        let later = CaseAttributes(offence: .liveStreaming, ageBand: .age10to12, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline)
        let events = [report(1, partial), report(3, later, by: .federalProsecutor)]
        let evaluation = CaseEvaluator.evaluate([(events[0], agency1), (events[1], agency2)], asOf: day(10))
        let s = try #require(evaluation.summary)
        #expect(s.attributes == CaseAttributes(offence: .onlineGrooming, ageBand: .age10to12, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline))
        #expect(evaluation.anomalies == [AttributedAnomaly(kind: .conflictingReportAttributes, agency: agency2)])
    }

    @Test("a case with events but no report is in no cohort and counts as no_report")
    func noReport() {
        let e = evaluate([event(.investigationOpened, 5), event(.chargeFiled, 9)], asOf: 30)
        #expect(e.summary == nil)
        #expect(e.anomalies == [AttributedAnomaly(kind: .noReport, agency: agency1)])
    }

    @Test("a case whose only report comes after the cutoff is not in the cutoff's cohorts yet")
    func reportAfterCutoff() {
        let e = evaluate([report(50), event(.investigationOpened, 5)], asOf: 30)
        #expect(e.summary == nil)
        #expect(e.anomalies.map(\.kind) == [.noReport])
        #expect(evaluate([report(50)], asOf: 30) == CaseEvaluation(summary: nil, anomalies: []))
    }

    // MARK: Order, duplicates, voids

    @Test("arrival order does not change the state")
    func orderIndependence() {
        let events = [report(1), event(.referred, 2, detail: 4), event(.chargeFiled, 30), event(.suspended, 10, detail: 1), event(.reopened, 20), event(.victimInformed, 25, detail: 1)]
        let expected = evaluate(events, asOf: 100)
        for rotation in 0..<events.count {
            let rotated = Array(events[rotation...] + events[..<rotation])
            #expect(evaluate(rotated, asOf: 100) == expected)
            #expect(evaluate(rotated.reversed(), asOf: 100) == expected)
        }
    }

    @Test("an exact duplicate is stored once and reported as a duplicate, even from another agency")
    func duplicates() {
        var index = CaseIndex()
        #expect(index.apply(report(1), from: agency1) == .new)
        #expect(index.apply(report(1), from: agency2) == .duplicate)
        #expect(index.apply([report(1), event(.chargeFiled, 3), event(.chargeFiled, 3)], from: agency1) == {
            var t = ApplyTally(); t.new = 1; t.duplicate = 2; return t
        }())
        #expect(index.eventCount == 2)
        #expect(index.caseCount == 1)
        // A report differing only in an attribute is a different event.
        var changed = report(1)
        changed.attributes.sex = .male
        #expect(index.apply(changed, from: agency1) == .new)
    }

    @Test("a void retracts its target whether it arrives before or after it")
    func voidEitherOrder() throws {
        let charge = event(.chargeFiled, 20)
        let events = [report(1), charge, void(charge, on: 25)]
        let after = try #require(summary(events, asOf: 100))
        let before = try #require(summary([events[2], events[0], events[1]], asOf: 100))
        #expect(after == before)
        #expect(after.chargeDay == nil)
        #expect(after.furthestStage == .reported)
    }

    @Test("a void retracts every event with the target's type, detail and day, whatever their attributes")
    func voidMatchesAll() throws {
        var a = event(.victimInformed, 8, detail: 1)
        var b = a
        b.agencyType = .childProtection
        a.attributes.sex = .female
        let s = try #require(summary([report(1), a, b, event(.victimInformed, 9, detail: 2), void(a, on: 12)], asOf: 50))
        #expect(s.firstUpdateDay == day(9))
    }

    @Test("a void applies even when dated after the cutoff, because it corrects the record")
    func voidAfterCutoff() throws {
        let charge = event(.chargeFiled, 20)
        let s = try #require(summary([report(1), charge, void(charge, on: 80)], asOf: 50))
        #expect(s.chargeDay == nil)
    }

    @Test("a void that matches no stored event is flagged")
    func unmatchedVoid() {
        let e = evaluate([report(1), void(event(.chargeFiled, 20), on: 25)], asOf: 100)
        #expect(e.anomalies.map(\.kind) == [.unmatchedVoid])
    }

    @Test("a voided report leaves the case without a report")
    func voidedReport() {
        let r = report(1)
        let e = evaluate([r, event(.investigationOpened, 3), void(r, on: 5)], asOf: 10)
        #expect(e.summary == nil)
        #expect(e.anomalies.map(\.kind) == [.noReport])
    }

    // MARK: Cutoff

    @Test("events after the cutoff are ignored and an open case is censored at the cutoff")
    func cutoff() throws {
        let events = [report(1), event(.investigationOpened, 10), event(.chargeFiled, 60)]
        let s = try #require(summary(events, asOf: 59))
        #expect(s.chargeDay == nil)
        #expect(s.firstDecision == nil)
        #expect(s.status == .active)
        #expect(s.openAgeDays == 58)
        #expect(s.furthestStage == .investigation)
        let later = try #require(summary(events, asOf: 60))
        #expect(later.chargeDay == day(60))
        #expect(later.firstDecision == FirstDecision(kind: .charge, day: day(60)))
        #expect(later.daysToFirstDecision == 59)
    }

    // MARK: Stages and decisions

    @Test("the furthest stage is the highest stage with an event, even when earlier stages have none")
    func furthestStage() throws {
        #expect(try #require(summary([report(1)], asOf: 10)).furthestStage == .reported)
        #expect(try #require(summary([report(1), event(.referred, 2, detail: 5)], asOf: 10)).furthestStage == .referred)
        #expect(try #require(summary([report(1), event(.suspectIdentified, 2)], asOf: 10)).furthestStage == .suspectIdentified)
        #expect(try #require(summary([report(1), event(.chargeFiled, 2)], asOf: 10)).furthestStage == .charged)
        #expect(try #require(summary([report(1), event(.chargeFiled, 2), event(.disposed, 5, detail: 1)], asOf: 10)).furthestStage == .convicted)
        #expect(try #require(summary([report(1), event(.chargeFiled, 2), event(.disposed, 5, detail: 3)], asOf: 10)).furthestStage == .charged)
    }

    @Test("the first referral gives the referral day and the receiving agency type")
    func referral() throws {
        let s = try #require(summary([report(1), event(.referred, 9, detail: 4), event(.referred, 4, detail: 3)], asOf: 10))
        #expect(s.firstReferralDay == day(4))
        #expect(s.referredTo == .stateProsecutor)
        #expect(s.referralCount == 2)
    }

    @Test("the first decision is the charge or the closure, whichever came first; a charge wins a tie")
    func firstDecision() throws {
        let closedFirst = try #require(summary([report(1), event(.closedWithoutCharge, 5, detail: 1)], asOf: 10))
        #expect(closedFirst.firstDecision == FirstDecision(kind: .closure, day: day(5)))
        #expect(closedFirst.status == .closed)
        #expect(closedFirst.closureReason == .insufficientEvidence)
        #expect(closedFirst.chargedOutcome == nil)
        let tie = try #require(summary([report(1), event(.chargeFiled, 5), event(.closedWithoutCharge, 5, detail: 1)], asOf: 10))
        #expect(tie.firstDecision == FirstDecision(kind: .charge, day: day(5)))
    }

    @Test("a closure reversed by a reopening is not a decision")
    func reopenedClosure() throws {
        let s = try #require(summary([report(1), event(.closedWithoutCharge, 5, detail: 2), event(.reopened, 8), event(.chargeFiled, 12)], asOf: 20))
        #expect(s.firstDecision == FirstDecision(kind: .charge, day: day(12)))
        #expect(s.reopenCount == 1)
        #expect(s.status == .active)
        let stillOpen = try #require(summary([report(1), event(.closedWithoutCharge, 5, detail: 2), event(.reopened, 8)], asOf: 20))
        #expect(stillOpen.firstDecision == nil)
        #expect(stillOpen.closureDay == nil)
    }

    @Test("a charge on a closed case reopens it implicitly and is flagged")
    func activityAfterClosure() throws {
        let e = evaluate([report(1), event(.closedWithoutCharge, 5, detail: 2), event(.chargeFiled, 12)], asOf: 20)
        let s = try #require(e.summary)
        #expect(s.status == .active)
        #expect(s.firstDecision == FirstDecision(kind: .charge, day: day(12)))
        #expect(e.anomalies.map(\.kind) == [.activityAfterClosure])
    }

    // MARK: Suspensions, reopenings, dispositions

    @Test("a suspension is not terminal: the case stays open and its suspended days are counted")
    func suspension() throws {
        let s = try #require(summary([report(1), event(.suspended, 10, detail: 1)], asOf: 40))
        #expect(s.status == .suspended)
        #expect(s.isOpen)
        #expect(s.firstDecision == nil)
        #expect(s.suspensionCount == 1)
        #expect(s.daysSuspended == 30)
        let resumed = try #require(summary([report(1), event(.suspended, 10, detail: 1), event(.reopened, 25), event(.suspended, 30, detail: 2)], asOf: 40))
        #expect(resumed.suspensionCount == 2)
        #expect(resumed.daysSuspended == 15 + 10)
        #expect(resumed.reopenCount == 1)
    }

    @Test("a case suspended and reopened on the same day ends the day active")
    func sameDaySuspendReopen() throws {
        let s = try #require(summary([event(.reopened, 10), report(1), event(.suspended, 10)], asOf: 40))
        #expect(s.status == .active)
        #expect(s.daysSuspended == 0)
    }

    @Test("a reopening of a case that was never suspended or closed is ignored and flagged")
    func reopenWithoutClosure() {
        let e = evaluate([report(1), event(.reopened, 10)], asOf: 40)
        #expect(e.summary?.reopenCount == 0)
        #expect(e.anomalies.map(\.kind) == [.reopenWithoutClosure])
    }

    @Test("the latest disposition of a charged case stands, and its outcome is reported")
    func dispositions() throws {
        let pending = try #require(summary([report(1), event(.chargeFiled, 5)], asOf: 40))
        #expect(pending.chargedOutcome == .pending)
        #expect(pending.status == .active)
        let appealed = try #require(summary([report(1), event(.chargeFiled, 5), event(.disposed, 20, detail: 2), event(.disposed, 30, detail: 3)], asOf: 40))
        #expect(appealed.chargedOutcome == .acquittal)
        #expect(appealed.dispositionDay == day(30))
        #expect(appealed.status == .disposed)
        #expect(!appealed.isOpen)
        #expect(appealed.openAgeDays == nil)
        let unknown = try #require(summary([report(1), event(.chargeFiled, 5), event(.disposed, 20, detail: 0)], asOf: 40))
        #expect(unknown.chargedOutcome == .other)
    }

    @Test("a disposition without a charge implies a charge on its day and is flagged")
    func dispositionWithoutCharge() throws {
        let e = evaluate([report(1), event(.disposed, 20, detail: 5)], asOf: 40)
        let s = try #require(e.summary)
        #expect(s.chargeDay == day(20))
        #expect(s.chargedOutcome == .diversion)
        #expect(s.firstDecision == FirstDecision(kind: .charge, day: day(20)))
        #expect(e.anomalies.map(\.kind) == [.dispositionWithoutCharge])
        #expect(s.anomalies.contains(.dispositionWithoutCharge))
    }

    @Test("events after a disposition do not change the status and are flagged")
    func eventAfterDisposition() throws {
        let e = evaluate([report(1), event(.chargeFiled, 5), event(.disposed, 20, detail: 1), event(.reopened, 25), event(.closedWithoutCharge, 26, detail: 9)], asOf: 40)
        let s = try #require(e.summary)
        #expect(s.status == .disposed)
        #expect(s.chargedOutcome == .convictionByPlea)
        #expect(e.anomalies.map(\.kind) == [.eventAfterDisposition, .eventAfterDisposition])
    }

    // MARK: Anomalies about days

    @Test("a charge dated before the report is read as filed on the report day and flagged")
    func chargeBeforeReport() throws {
        let e = evaluate([event(.chargeFiled, 3), report(10), event(.investigationOpened, 5)], asOf: 40)
        let s = try #require(e.summary)
        #expect(s.chargeDay == day(10))
        #expect(s.investigationDay == day(10))
        #expect(s.daysToFirstDecision == 0)
        #expect(e.anomalies.map(\.kind) == [.eventBeforeReport, .chargeBeforeReport].sorted())
    }

    @Test("anomalies are attributed to the smallest id among the agencies that submitted the offending event")
    func attribution() {
        let charge = event(.chargeFiled, 3)
        let e = CaseEvaluator.evaluate([(report(10), agency1), (charge, agency3), (charge, agency2)], asOf: day(40))
        #expect(e.anomalies == [AttributedAnomaly(kind: .chargeBeforeReport, agency: agency2)])
        var index = CaseIndex()
        index.apply(report(10), from: agency1)
        index.apply(charge, from: agency3)
        index.apply(charge, from: agency2)
        index.apply(charge, from: agency3)
        #expect(index.evaluation(of: caseA, asOf: day(40)) == e)
    }

    @Test("the index counts anomalies per agency and kind")
    func anomalyCounts() {
        var index = CaseIndex()
        index.apply([report(1), event(.reopened, 5)], from: agency1)
        index.apply([event(.chargeFiled, 2, case: caseB)], from: agency2)
        index.apply([report(4, case: caseB), event(.investigationOpened, 1, case: caseB)], from: agency2)
        let counts = index.anomalyCounts(asOf: day(30))
        #expect(counts.count(agency: agency1, kind: .reopenWithoutClosure) == 1)
        #expect(counts.count(agency: agency2, kind: .chargeBeforeReport) == 1)
        #expect(counts.count(agency: agency2, kind: .eventBeforeReport) == 1)
        #expect(counts.total(agency: agency2) == 2)
        #expect(counts.agencies == [agency1, agency2])
        #expect(index.anomalyCounts(asOf: day(1)).count(agency: agency2, kind: .noReport) == 1)
    }

    // MARK: Victim updates

    @Test("victim updates give the first update day and flag open cases without contact in 90 days")
    func victimUpdates() throws {
        let s = try #require(summary([report(0), event(.victimInformed, 30, detail: 1), event(.victimInformed, 60, detail: 1)], asOf: 149))
        #expect(s.firstUpdateDay == day(30))
        #expect(s.lastUpdateDay == day(60))
        #expect(s.daysToFirstUpdate == 30)
        #expect(!s.noUpdateInLast90Days)
        #expect(try #require(summary([report(0), event(.victimInformed, 60, detail: 1)], asOf: 150)).noUpdateInLast90Days)
        // The report counts as the first contact: a young case is not "without update".
        #expect(!(try #require(summary([report(0)], asOf: 89))).noUpdateInLast90Days)
        #expect(try #require(summary([report(0)], asOf: 90)).noUpdateInLast90Days)
        // Closed cases are never counted.
        #expect(!(try #require(summary([report(0), event(.closedWithoutCharge, 5, detail: 5)], asOf: 400))).noUpdateInLast90Days)
    }

    // MARK: Validation, persistence

    @Test("an event that cannot have passed validation is refused, not stored")
    func invalidRefused() {
        var index = CaseIndex()
        #expect(index.apply(event(.disposed, 3, detail: 200), from: agency1) == .invalid)
        var badVoid = event(.chargeFiled, 3)
        badVoid.target = EventReference(type: .reportReceived, detail: 0, day: day(1))
        #expect(index.apply(badVoid, from: agency1) == .invalid)
        #expect(index.caseCount == 0)
    }

    @Test("a case refuses events beyond its size limit")
    func caseFull() {
        var index = CaseIndex()
        var outcomes: [ApplyOutcome] = []
        let events = (0..<(CaseIndex.maxWordsPerCase + 1)).map { event(.victimInformed, $0 % 3000, detail: UInt8($0 / 3000)) }
        index.apply(events, from: agency1, outcomes: &outcomes)
        #expect(outcomes.filter { $0 == .new }.count == CaseIndex.maxWordsPerCase)
        #expect(outcomes.last == .caseFull)
    }

    @Test("a snapshot reloads into an index with the same cases, events and attributions")
    func snapshotRoundTrip() throws {
        var index = CaseIndex()
        let charge = event(.chargeFiled, 3)
        index.apply([report(10), charge, void(event(.suspended, 4, detail: 1), on: 5)], from: agency3)
        index.apply([charge, report(2, case: caseB)], from: agency2)
        let bytes = index.snapshot()
        let reloaded = try CaseIndex(snapshot: bytes)
        #expect(reloaded.snapshot() == bytes)
        #expect(reloaded.caseCount == 2)
        #expect(reloaded.eventCount == index.eventCount)
        #expect(reloaded.evaluation(of: caseA, asOf: day(30)) == index.evaluation(of: caseA, asOf: day(30)))
        #expect(reloaded.events(of: caseA)?.map(\.agency) == index.events(of: caseA)?.map(\.agency))
        #expect(throws: CaseIndexError.self) { try CaseIndex(snapshot: Array(bytes.dropLast())) }
        var corrupted = bytes
        corrupted[corrupted.count - 8] = 0x0F  // event type 15
        #expect(throws: CaseIndexError.self) { try CaseIndex(snapshot: corrupted) }
    }

    @Test("stored events read back exactly as applied")
    func eventsReadBack() throws {
        var index = CaseIndex()
        let events = [report(10), event(.referred, 12, detail: 5, by: .nationalCentre), void(event(.suspended, 4, detail: 1), on: 5)]
        index.apply(events, from: agency1)
        let stored = try #require(index.events(of: caseA))
        #expect(Set(stored.map(\.event)) == Set(events))
        #expect(index.events(of: caseB) == nil)
    }

    @Test("a summary survives a JSON round trip")
    func summaryCodable() throws {
        let s = try #require(summary([report(1), event(.referred, 2, detail: 3), event(.chargeFiled, 5), event(.disposed, 9, detail: 2), event(.victimInformed, 4, detail: 1)], asOf: 30))
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(CaseSummary.self, from: data) == s)
        let closed = try #require(summary([report(1), event(.closedWithoutCharge, 5, detail: 7)], asOf: 30))
        #expect(try JSONDecoder().decode(CaseSummary.self, from: JSONEncoder().encode(closed)) == closed)
    }
}

@Suite("case index ingest support")
struct CaseIndexIngestTests {
    @Test("a preview predicts apply's outcomes, duplicates within the batch included, without changing the index")
    func preview() {
        var index = CaseIndex()
        index.apply([report(1), event(.chargeFiled, 4)], from: agency1)
        let before = index.snapshot()
        let batch = [event(.chargeFiled, 4), event(.investigationOpened, 3), event(.investigationOpened, 3), event(.disposed, 9, detail: 99), report(2, case: caseB)]
        let predicted = index.preview(batch)
        #expect(predicted == [.duplicate, .new, .duplicate, .invalid, .new])
        #expect(index.snapshot() == before)
        var outcomes: [ApplyOutcome] = []
        index.apply(batch, from: agency2, outcomes: &outcomes)
        #expect(outcomes == predicted)
    }
}

extension CaseIndexIngestTests {
    @Test("on random batches drawn from a small pool (many duplicates, voids, several cases), preview equals apply")
    func previewMatchesApplyOnRandomBatches() {
        var rng = SplitMix64(seed: 2026_11_29)
        let cases = (0..<6).map { CasePseudonym(low: 0x100 + UInt64($0), high: 7) }
        let types: [EventType] = [.investigationOpened, .suspectIdentified, .chargeFiled, .suspended, .reopened, .victimInformed]
        for _ in 0..<200 {
            var pool: [CaseEvent] = []
            for _ in 0..<20 {
                let p = cases[Int(rng.next() % 6)]
                let d = Int(rng.next() % 40)
                switch rng.next() % 4 {
                case 0: pool.append(report(d, case: p))
                case 1: pool.append(event(types[Int(rng.next() % 6)], d, detail: 0, case: p))
                default: pool.append(event(.victimInformed, d, detail: UInt8(rng.next() % 3), case: p))
                }
            }
            for e in pool.prefix(5) where e.type != .void { pool.append(void(e, on: 45, case: e.pseudonym)) }
            var index = CaseIndex()
            index.apply((0..<15).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }, from: agency1)
            let batch = (0..<40).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            let predicted = index.preview(batch)
            var outcomes: [ApplyOutcome] = []
            index.apply(batch, from: agency2, outcomes: &outcomes)
            #expect(predicted == outcomes)
            #expect(predicted.contains(.duplicate) && predicted.contains(.new))
        }
    }
}

@Suite("case index parts")
struct CaseIndexPartsTests {
    @Test("the parts of forEachSummary are disjoint and together give every summary exactly once", arguments: [1, 2, 3, 7])
    func partsCoverEveryCaseOnce(parts: Int) {
        var index = CaseIndex()
        var rng = SplitMix64(seed: 31)
        for c in 0..<1_000 {
            let p = CasePseudonym(low: rng.next(), high: UInt64(c))
            index.apply(report(Int(rng.next() % 300), case: p), from: agency1)
            if rng.next() % 2 == 0 { index.apply(event(.chargeFiled, 300 + Int(rng.next() % 90), case: p), from: agency2) }
        }
        let cutoff = day(400)
        var whole: [CaseSummary] = []
        index.forEachSummary(asOf: cutoff) { whole.append($0) }
        var fromParts: [CaseSummary] = []
        for part in 0..<parts {
            index.forEachSummary(asOf: cutoff, part: part, of: parts) { fromParts.append($0) }
        }
        #expect(whole.count == 1_000 && Set(whole).count > 600)  // distinct enough for the order to matter
        // The same cases in the same order: parts are consecutive ranges of the one iteration.
        #expect(fromParts == whole)
    }
}
