import Foundation
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore
import Testing

@Suite("Budget history and guard rails")
struct BudgetHistoryTests {
    @Test("every change records who, when, old → new and why; a raise or a budget above 2 needs confirmation and is flagged")
    func historyAndGuardRails() async throws {
        let ledger = BudgetLedger(database: try await AppDatabase.forTesting())
        await #expect(throws: LedgerError.missingField("reason")) { try await ledger.changeBudget(Rational(1, 2), scope: nil, by: "ana", reason: "  ") }
        try await ledger.changeBudget(Rational(1, 2), scope: nil, by: "ana", reason: "initial plan: 12 quarterly releases")
        let q1 = try Quarter(scope: "2024Q1")
        // Lowering needs no confirmation.
        try await ledger.changeBudget(Rational(1, 4), scope: q1, by: "ana", reason: "sensitive cohort")
        // Raising does, and the refusal changes nothing.
        await #expect(throws: LedgerError.self) { try await ledger.changeBudget(Rational(1, 2), scope: q1, by: "ben", reason: "more tables") }
        #expect(try await ledger.history().count == 2)
        let raised = try await ledger.changeBudget(Rational(1, 2), scope: q1, by: "ben", reason: "more tables", confirmRaise: true)
        #expect(raised.flagged && raised.flags == ["raise"])
        // Above ρ = 2 even for a first budget.
        let q2 = try Quarter(scope: "2024Q2")
        var refusal: LedgerError?
        do { try await ledger.changeBudget(Rational(integer: 3), scope: q2, by: "ben", reason: "x") } catch { refusal = error }
        guard case let .confirmationRequired(sentence)? = refusal else { Issue.record("a budget above 2 was not refused"); return }
        #expect(sentence.contains("above ρ = 2") && sentence.contains("--confirm-raise"))
        let history = try await ledger.history()
        let half = try Rational(1, 2), quarter = try Rational(1, 4)
        #expect(history.map(\.changedBy) == ["ana", "ana", "ben"])
        #expect(history.map { $0.previous?.rho } == [nil, half, quarter])
        #expect(history.map(\.budget.rho) == [half, quarter, half])
        #expect(history.map(\.reason) == ["initial plan: 12 quarterly releases", "sensitive cohort", "more tables"])
        #expect(history.map(\.flagged) == [false, false, true])
        #expect(try await ledger.balance(for: q1).budget.rho == half)
    }

    @Test("the largest representable budget is refused beyond with a sentence, not an overflow")
    func largestBudget() async throws {
        let ledger = BudgetLedger(database: try await AppDatabase.forTesting())
        #expect(BudgetLedger.largestBudget == Rational(integer: 127_974))
        var refusal: LedgerError?
        do { try await ledger.changeBudget(Rational(integer: 1_000_000), scope: nil, by: "ana", reason: "typo", confirmRaise: true) } catch { refusal = error }
        guard case let .budgetTooLarge(sentence)? = refusal else { Issue.record("not refused as too large: \(String(describing: refusal))"); return }
        #expect(sentence.contains("largest budget the ledger can hold (ρ = 127974)"))
        #expect(!sentence.contains("overflow"))
        try await ledger.changeBudget(BudgetLedger.largestBudget, scope: nil, by: "ana", reason: "test the edge", confirmRaise: true)
        #expect(try await ledger.defaultBudget().rho == Rational(integer: 127_974))
    }

    @Test("budget history rows are append-only")
    func appendOnly() async throws {
        let db = try await AppDatabase.forTesting()
        try await BudgetLedger(database: db).changeBudget(Rational(1, 2), scope: nil, by: "ana", reason: "plan")
        await #expect(throws: (any Error).self) { try await db.write { try await $0.execute("UPDATE privacy_budget_reason SET reason = 'x'") } }
        await #expect(throws: (any Error).self) { try await db.write { try await $0.execute("DELETE FROM privacy_budget_reason") } }
    }
}
