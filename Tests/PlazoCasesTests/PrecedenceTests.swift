import PlazoModel
import Testing

@testable import PlazoCases

@Suite("same-day precedence")
struct PrecedenceTests {
    @Test("the packed precedence word gives each event type the documented same-day rank")
    func literalMatchesTable() {
        let expected: [EventType: UInt64] = [
            .reportReceived: 0, .referred: 1, .investigationOpened: 2, .suspectIdentified: 3, .chargeFiled: 4,
            .suspended: 5, .closedWithoutCharge: 6, .reopened: 7, .disposed: 8, .victimInformed: 9, .void: 10,
        ]
        #expect(expected.count == EventType.allCases.count)
        for type in EventType.allCases {
            #expect(CaseEvaluator.rank(type.rawValue, in: CaseEvaluator.precedence) == expected[type], "\(type)")
        }
        // Codes that are no event type rank last.
        for code in UInt8(0)...15 where EventType(rawValue: code) == nil {
            #expect(CaseEvaluator.rank(code, in: CaseEvaluator.precedence) == 15)
        }
    }
}
