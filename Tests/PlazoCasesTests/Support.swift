import PlazoCases
import PlazoModel
import PlazoRandom
import Testing

let caseA = CasePseudonym(low: 0xA, high: 0x1)
let caseB = CasePseudonym(low: 0xB, high: 0x1)
let agency1 = AgencyID(1)
let agency2 = AgencyID(2)
let agency3 = AgencyID(3)

/// Day `n` counted from 2024-01-01 (a Monday in 2024Q1).
func day(_ n: Int) -> Day { Day(year: 2024, month: 1, day: 1)!.adding(days: n) }

let grooming13 = CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .victimOrFamily)

func report(_ d: Int, _ attributes: CaseAttributes = grooming13, by agencyType: AgencyType = .stateProsecutor, case p: CasePseudonym = caseA) -> CaseEvent {
    CaseEvent(pseudonym: p, type: .reportReceived, day: day(d), attributes: attributes, agencyType: agencyType)
}

func event(_ type: EventType, _ d: Int, detail: UInt8 = 0, by agencyType: AgencyType = .stateProsecutor, case p: CasePseudonym = caseA) -> CaseEvent {
    CaseEvent(pseudonym: p, type: type, detail: detail, day: day(d), agencyType: agencyType)
}

func void(_ target: CaseEvent, on d: Int, case p: CasePseudonym = caseA) -> CaseEvent {
    CaseEvent(
        pseudonym: p, type: .void, day: day(d), agencyType: target.agencyType,
        target: EventReference(type: target.type, detail: target.detail, day: target.day)
    )
}

/// Evaluates events of one case, all from `agency`, through the from-scratch evaluator.
func evaluate(_ events: [CaseEvent], asOf cutoff: Int, agency: AgencyID = agency1) -> CaseEvaluation {
    CaseEvaluator.evaluate(events.map { ($0, agency) }, asOf: day(cutoff))
}

/// The summary, through an index (so both paths are exercised by the rule tests).
func summary(_ events: [CaseEvent], asOf cutoff: Int) -> CaseSummary? {
    var index = CaseIndex()
    index.apply(events, from: agency1)
    let viaIndex = index.evaluation(of: events[0].pseudonym, asOf: day(cutoff))
    let direct = evaluate(events, asOf: cutoff)
    #expect(viaIndex == direct, "index and evaluator disagree")
    return direct.summary
}
