import Foundation
@testable import PlazoLedger
import PlazoModel
import PlazoPrivacy
import Testing

/// The ledger's rules on values alone: no database.
@Suite("Ledger rules")
struct LedgerRulesTests {
    let q1 = Quarter(year: 2024, quarter: 1)!
    let q2 = Quarter(year: 2024, quarter: 2)!

    func units(_ rho: String) throws -> RhoUnits { try RhoUnits.charging(Rational(parsing: rho)) }

    @Test("a scope's budget is its own, else the default, else zero (fail closed)")
    func applicableBudget() throws {
        let half = try units("1/2"), tenth = try units("1/10")
        #expect(LedgerRules.budget(explicit: tenth, default: half) == tenth)
        #expect(LedgerRules.budget(explicit: nil, default: half) == half)
        #expect(LedgerRules.budget(explicit: nil, default: nil) == RhoUnits(units: 0))
        let b = LedgerRules.balance(q1, explicit: nil, default: half, spent: tenth, spendCount: 1)
        #expect(b.budgetIsDefault && b.budget == half && b.remainingUnits == half.units - tenth.units)
        #expect(!LedgerRules.balance(q1, explicit: tenth, default: half, spent: tenth, spendCount: 1).budgetIsDefault)
    }

    @Test("a spend is short where spent + charge exceeds the budget, or the sum overflows; exactly full is admitted")
    func shortfalls() throws {
        let quarter = try units("1/4")
        let full = LedgerRules.balance(q1, explicit: try units("1/2"), default: nil, spent: quarter, spendCount: 1)
        let none = LedgerRules.balance(q2, explicit: nil, default: nil, spent: RhoUnits(units: 0), spendCount: 0)
        #expect(LedgerRules.shortfall(full, charged: quarter) == nil)
        #expect(LedgerRules.shortfalls([full, none], charged: quarter).map(\.scope) == [q2])
        let short = try #require(LedgerRules.shortfall(full, charged: try units("1/2")))
        #expect(short.description == "2024Q1: budget ρ=1/2, spent ρ=1/4, requested ρ=1/2")
        let huge = LedgerRules.balance(q1, explicit: RhoUnits(units: .max), default: nil, spent: RhoUnits(units: .max - 1), spendCount: 1)
        #expect(LedgerRules.shortfall(huge, charged: RhoUnits(units: 1)) == nil)
        #expect(LedgerRules.shortfall(huge, charged: RhoUnits(units: 2)) != nil)
    }

    @Test("charges round up and budgets round down, so the ledger never under-charges")
    func rounding() throws {
        let seventeenth = try Rational(parsing: "1/17")
        let charge = try LedgerRules.charge(.zCDP(rho: seventeenth))
        let budget = try LedgerRules.budgetUnits(seventeenth)
        #expect(charge.rho > seventeenth && budget.rho < seventeenth && charge.units == budget.units + 1)
        #expect(try LedgerRules.charge(.pureDP(epsilon: Rational(parsing: "1/2"))).rho == (try Rational(parsing: "1/8")))
        #expect(throws: LedgerError.self) { try LedgerRules.budgetUnits(Rational(parsing: "-1")) }
    }

    @Test("a spend request needs scopes, a purpose, a requester and a positive cost, checked in that order")
    func checks() throws {
        let cost = PrivacyCost.zCDP(rho: try Rational(parsing: "1/10"))
        let checked = try LedgerRules.check(SpendRequest(scopes: [q2, q1, q2], cost: cost, purpose: " p ", requester: "r\n"))
        #expect(checked.scopes == [q1, q2] && checked.purpose == "p" && checked.requester == "r")
        #expect(checked.charged == (try units("1/10")))
        #expect(throws: LedgerError.noScopes) { try LedgerRules.check(SpendRequest(scopes: [], cost: cost, purpose: " ", requester: "")) }
        #expect(throws: LedgerError.missingField("purpose")) { try LedgerRules.check(SpendRequest(scopes: [q1], cost: cost, purpose: " ", requester: "")) }
        #expect(throws: LedgerError.missingField("requester")) { try LedgerRules.check(SpendRequest(scopes: [q1], cost: cost, purpose: "p", requester: "")) }
        #expect(throws: LedgerError.invalidAmount(.parameterOutOfRange(what: "cost", reason: "must be > 0"))) {
            try LedgerRules.check(SpendRequest(scopes: [q1], cost: .zCDP(rho: .zero), purpose: "p", requester: "r"))
        }
    }

    @Test("a budget change needs a steward and a reason, fits the ledger, and a raise or ρ above 2 needs confirmation")
    func changeRules() throws {
        let half = try Rational(parsing: "1/2")
        #expect(throws: LedgerError.missingField("steward")) { try LedgerRules.checkChange(half, by: " ", reason: "") }
        #expect(throws: LedgerError.missingField("reason")) { try LedgerRules.checkChange(half, by: "ana", reason: "\n") }
        #expect(throws: LedgerError.self) { try LedgerRules.checkChange(Rational(integer: 127_975), by: "ana", reason: "x") }
        let change = try LedgerRules.checkChange(half, by: " ana ", reason: " plan ")
        #expect(change.steward == "ana" && change.reason == "plan" && change.units.rho == half)

        let quarter = try units("1/4")
        // A first budget, and a lowering, need no confirmation (the audit reports a lowering below what was spent).
        #expect(try LedgerRules.changeFlags(half, units: change.units, scope: q1, previous: nil, confirmRaise: false).isEmpty)
        #expect(try LedgerRules.changeFlags(try Rational(parsing: "1/4"), units: quarter, scope: q1, previous: change.units, confirmRaise: false).isEmpty)
        // A raise is refused without confirmation, saying what it raises; with it, flagged.
        var refusal: LedgerError?
        do { _ = try LedgerRules.changeFlags(half, units: change.units, scope: nil, previous: quarter, confirmRaise: false) } catch { refusal = error }
        guard case let .confirmationRequired(why) = refusal else { Issue.record("expected a refusal, got \(String(describing: refusal))"); return }
        #expect(why.contains("it raises the default budget from ρ = 1/4 to ρ = 1/2"))
        #expect(try LedgerRules.changeFlags(half, units: change.units, scope: q1, previous: quarter, confirmRaise: true) == ["raise"])
        let three = Rational(integer: 3)
        #expect(throws: LedgerError.self) { try LedgerRules.changeFlags(three, units: try LedgerRules.budgetUnits(three), scope: q1, previous: nil, confirmRaise: false) }
        #expect(try LedgerRules.changeFlags(three, units: try LedgerRules.budgetUnits(three), scope: q1, previous: quarter, confirmRaise: true) == ["raise", "above_2"])
    }

    @Test("replaying changes gives the budget each one replaced: the scope's own, else the default")
    func budgetsInForce() throws {
        var inForce = LedgerRules.BudgetsInForce()
        let a = RhoUnits(units: 10), b = RhoUnits(units: 20)
        #expect(inForce.previous(for: q1) == nil && inForce.previous(for: nil) == nil)
        inForce.apply(a, to: nil)
        #expect(inForce.previous(for: q1) == a && inForce.previous(for: nil) == a)
        inForce.apply(b, to: q1)
        #expect(inForce.previous(for: q1) == b && inForce.previous(for: q2) == a)
    }

    @Test("the audit finds a wrong charge, a spend without scope, a scope over budget and a sum that disagrees")
    func audit() throws {
        let tenth = try units("1/10")
        let good = LedgerEntry(
            id: 1, spentAt: Date(), scopes: [q1], cost: .zCDP(rho: try Rational(parsing: "1/10")), charged: tenth, purpose: "p", requester: "r")
        let balance = LedgerRules.balance(q1, explicit: tenth, default: nil, spent: tenth, spendCount: 1)
        #expect(LedgerRules.auditProblems(entries: [good], balances: [balance]).isEmpty)
        var bad = good
        bad.id = 2
        bad.scopes = []
        bad.charged = RhoUnits(units: 1)
        let over = LedgerRules.balance(q1, explicit: RhoUnits(units: 1), default: nil, spent: tenth, spendCount: 1)
        let problems = LedgerRules.auditProblems(entries: [bad], balances: [over])
        #expect(problems.count == 4, "\(problems)")
        #expect(problems[0] == "spend 2 names no scope")
        #expect(problems[2].hasPrefix("2024Q1 is over budget"))
        #expect(problems[3] == "2024Q1: spent total mismatch")
    }
}
