import PlazoModel

/// One distinct event as the evaluator sees it: its packed content, its void target, and the
/// smallest id among the agencies that submitted it.
@usableFromInline
struct EvalEvent: Sendable {
    /// ``PackedEvent`` content bits (no agency slot).
    @usableFromInline var word: UInt64
    /// A void's target (``PackedEvent/target``); zero otherwise.
    @usableFromInline var target: UInt64
    /// Who the event is attributed to.
    @usableFromInline var agency: AgencyID

    @inlinable init(word: UInt64, target: UInt64, agency: AgencyID) {
        self.word = word
        self.target = target
        self.agency = agency
    }

    @inlinable var typeCode: UInt8 { UInt8(truncatingIfNeeded: word & 0xF) }
    @inlinable var detail: UInt8 { UInt8(truncatingIfNeeded: (word >> 4) & 0xF) }
    @inlinable var day: Day { Day(rawValue: UInt16(truncatingIfNeeded: word >> 8)) }
    @inlinable var reference: UInt64 { word & 0xFF_FFFF }
}

/// The rules that turn a set of events into a ``CaseSummary`` as of a cutoff. The same code
/// serves ``CaseIndex`` and the from-scratch ``CaseEvaluator/evaluate(_:asOf:)``, so that
/// incremental and rebuilt state can only differ if storage differs. `docs/case-state.md`
/// states every rule with its reasoning.
public enum CaseEvaluator {
    /// Evaluates one case from scratch: `events` may hold duplicates (an event submitted by
    /// several agencies is attributed to the smallest ``AgencyID``) and events in any order.
    /// Every event must have the same pseudonym and have passed ``CaseEvent/validate(latestDay:)``;
    /// events that could not have (see ``ApplyOutcome/invalid``) are skipped.
    public static func evaluate(
        _ events: some Sequence<(event: CaseEvent, agency: AgencyID)>, asOf cutoff: Day
    ) -> CaseEvaluation {
        var distinct: [PackedEvent: AgencyID] = [:]
        for (event, agency) in events {
            guard let packed = PackedEvent(event) else { continue }
            if let existing = distinct[packed], existing <= agency { continue }
            distinct[packed] = agency
        }
        var buffer = distinct.map { EvalEvent(word: $0.key.word, target: $0.key.target, agency: $0.value) }
        var anomalies: [AttributedAnomaly] = []
        let summary = buffer.withUnsafeMutableBufferPointer { b in
            evaluate(b, asOf: cutoff) { anomalies.append(AttributedAnomaly(kind: $0, agency: $1)) }
        }
        anomalies.sort()
        return CaseEvaluation(summary: summary, anomalies: anomalies)
    }

    /// Same-day order of event types. Within one day the case moves through its stages in this
    /// order, and a reopening follows the suspension or closure it undoes (so that a case
    /// suspended and reopened on the same day ends the day active); a disposition comes last
    /// among status changes because it is terminal.
    ///
    /// Held as sixteen 4-bit entries of one word, indexed by type code (15 for codes that are not
    /// event types): a plain value, where an array would be retained and released by every sort
    /// on every thread, and two threads evaluating cases contended on its reference count.
    ///
    /// | type code | 1 report | 2 referred | 3 investigation | 4 suspect | 5 charge | 6 suspended | 7 reopened | 8 closed | 9 disposed | 10 victim informed | 11 void | others |
    /// |---|---|---|---|---|---|---|---|---|---|---|---|---|
    /// | rank | 0 | 1 | 2 | 3 | 4 | 5 | 7 | 6 | 8 | 9 | 10 | 15 |
    ///
    /// A literal rather than a lazily built global: every evaluation reads it, and a global's
    /// initialisation check (`swift_once`) on each read was measurable. `PrecedenceTests` checks
    /// the literal against this table.
    @usableFromInline
    static var precedence: UInt64 { 0xFFFF_A986_7543_210F }

    /// The same-day rank of a type code (see ``precedence``).
    @inline(__always)
    static func rank(_ typeCode: UInt8, in table: UInt64) -> UInt64 { table >> (UInt64(typeCode & 0xF) * 4) & 0xF }

    /// The core: evaluates the distinct events in `events` (reordered in place) as of `cutoff`,
    /// calls `anomaly` for every finding, and returns the summary (nil without a report).
    @usableFromInline
    static func evaluate(
        _ events: UnsafeMutableBufferPointer<EvalEvent>, asOf cutoff: Day,
        anomaly: (CaseAnomaly, AgencyID) -> Void
    ) -> CaseSummary? {
        let voidCode = EventType.void.rawValue
        // 1. Voids. A void is a correction of the record, not something that happened in the
        //    case, so it applies whatever its own day: a release computed today as of an
        //    earlier cutoff uses today's corrected record. It retracts every stored event with
        //    the target's type, detail and day, whichever arrived first.
        var voidCount = 0
        for e in events where e.typeCode == voidCode { voidCount += 1 }
        var retainedCount = 0
        if voidCount == 0 {
            for i in events.indices where events[i].day <= cutoff {
                events.swapAt(retainedCount, i)
                retainedCount += 1
            }
        } else {
            for v in events where v.typeCode == voidCode && v.day <= cutoff {
                if !events.contains(where: { $0.typeCode != voidCode && $0.reference == v.target }) {
                    anomaly(.unmatchedVoid, v.agency)
                }
            }
            for i in events.indices {
                let e = events[i]
                guard e.typeCode != voidCode, e.day <= cutoff else { continue }
                if events.contains(where: { $0.typeCode == voidCode && $0.target == e.reference }) { continue }
                events.swapAt(retainedCount, i)
                retainedCount += 1
            }
        }
        guard retainedCount > 0 else { return nil }
        var retained = UnsafeMutableBufferPointer(rebasing: events[0..<retainedCount])

        // 2. A total order that depends only on content: day, same-day precedence, then the
        //    packed content (distinct events have distinct content).
        let prec = precedence
        retained.sort { a, b in
            let ka = UInt64(a.word >> 8 & 0xFFFF) << 4 | rank(a.typeCode, in: prec)
            let kb = UInt64(b.word >> 8 & 0xFFFF) << 4 | rank(b.typeCode, in: prec)
            return ka != kb ? ka < kb : a.word < b.word
        }

        // 3. The first report: the earliest report_received, ties broken by the packed content
        //    (which orders by agency type, then offence, age band, sex, state, channel). Its
        //    unknown attributes are filled from later reports in the same order: a second agency
        //    that knows the age band should not leave it unknown.
        let reportCode = EventType.reportReceived.rawValue
        guard let first = retained.firstIndex(where: { $0.typeCode == reportCode }) else {
            anomaly(.noReport, retained[0].agency)
            return nil
        }
        let reportDay = retained[first].day
        let chosen = PackedEvent(word: retained[first].word, target: 0)
        var attributes = chosen.attributes
        var found: CaseAnomalySet = []
        func flag(_ kind: CaseAnomaly, _ agency: AgencyID) {
            found.insert(CaseAnomalySet(kind))
            anomaly(kind, agency)
        }
        for i in (first + 1)..<retainedCount where retained[i].typeCode == reportCode {
            let other = PackedEvent(word: retained[i].word, target: 0).attributes
            var conflict = false
            if attributes.offence == .unknown { attributes.offence = other.offence } else if other.offence != .unknown, other.offence != attributes.offence { conflict = true }
            if attributes.ageBand == .unknown { attributes.ageBand = other.ageBand } else if other.ageBand != .unknown, other.ageBand != attributes.ageBand { conflict = true }
            if attributes.sex == .unknown { attributes.sex = other.sex } else if other.sex != .unknown, other.sex != attributes.sex { conflict = true }
            if attributes.state == .unknown { attributes.state = other.state } else if other.state != .unknown, other.state != attributes.state { conflict = true }
            if attributes.channel == .unknown { attributes.channel = other.channel } else if other.channel != .unknown, other.channel != attributes.channel { conflict = true }
            if conflict { flag(.conflictingReportAttributes, retained[i].agency) }
        }

        var s = CaseSummary(
            cutoff: cutoff, firstReportDay: reportDay, attributes: attributes, reportingAgencyType: chosen.agencyType
        )
        var suspendedSince: Day?

        // 4. Walk the case in order. Days before the report are read as the report day.
        for i in 0..<retainedCount {
            let e = retained[i]
            let type = EventType(rawValue: e.typeCode)!
            var day = e.day
            if day < reportDay {
                if type != .reportReceived { flag(type == .chargeFiled ? .chargeBeforeReport : .eventBeforeReport, e.agency) }
                day = reportDay
            }
            func endSuspension() {
                if let since = suspendedSince {
                    s.daysSuspended += since.days(to: day)
                    suspendedSince = nil
                }
            }
            switch type {
            case .reportReceived, .void:
                break
            case .referred:
                if s.firstReferralDay == nil {
                    s.firstReferralDay = day
                    s.referredTo = AgencyType(rawValue: e.detail) ?? .unknown
                }
                s.referralCount += 1
            case .investigationOpened:
                if s.investigationDay == nil { s.investigationDay = day }
            case .suspectIdentified:
                if s.suspectIdentifiedDay == nil { s.suspectIdentifiedDay = day }
            case .chargeFiled:
                if s.chargeDay == nil { s.chargeDay = day }
                switch s.status {
                case .disposed: flag(.eventAfterDisposition, e.agency)
                case .closed:
                    // A charge on a closed case means it was reopened without a record of it.
                    flag(.activityAfterClosure, e.agency)
                    s.status = .active
                    s.closureDay = nil
                    s.closureReason = nil
                case .suspended:
                    // Charging a suspended case reactivates it; not an anomaly (new evidence
                    // is exactly how a temporary archive ends).
                    endSuspension()
                    s.status = .active
                case .active: break
                }
            case .suspended:
                switch s.status {
                case .active:
                    s.status = .suspended
                    s.suspensionCount += 1
                    suspendedSince = day
                case .disposed: flag(.eventAfterDisposition, e.agency)
                case .suspended, .closed: break  // already inactive: a suspension adds nothing
                }
            case .closedWithoutCharge:
                switch s.status {
                case .active, .suspended:
                    endSuspension()
                    s.status = .closed
                    s.closureDay = day
                    s.closureReason = ClosureReason(rawValue: e.detail) ?? .unknown
                case .closed: break  // the standing closure keeps its first day and reason
                case .disposed: flag(.eventAfterDisposition, e.agency)
                }
            case .reopened:
                switch s.status {
                case .suspended, .closed:
                    endSuspension()
                    s.status = .active
                    s.closureDay = nil
                    s.closureReason = nil
                    s.reopenCount += 1
                case .active: flag(.reopenWithoutClosure, e.agency)
                case .disposed: flag(.eventAfterDisposition, e.agency)
                }
            case .disposed:
                if s.chargeDay == nil {
                    // A court disposition presupposes a case before the court: the missing
                    // charge is most likely a missing record, so the disposition implies it.
                    flag(.dispositionWithoutCharge, e.agency)
                    s.chargeDay = day
                }
                if s.status == .closed { flag(.activityAfterClosure, e.agency) }
                endSuspension()
                s.status = .disposed
                s.closureDay = nil
                s.closureReason = nil
                s.disposition = Disposition(rawValue: e.detail) ?? .unknown
                s.dispositionDay = day
            case .victimInformed:
                if s.firstUpdateDay == nil { s.firstUpdateDay = day }
                s.lastUpdateDay = day
            }
        }
        if let since = suspendedSince { s.daysSuspended += since.days(to: cutoff) }
        s.anomalies = found
        return s
    }
}
