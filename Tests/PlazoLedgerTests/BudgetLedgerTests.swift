import Foundation
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore
import Testing

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plazo-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var databasePath: String { url.appendingPathComponent("plazo.sqlite").path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func r(_ text: String) throws -> Rational { try Rational(parsing: text) }
func q(_ text: String) throws -> Quarter { try Quarter(scope: text) }

@Suite("Budget ledger")
struct BudgetLedgerTests {
    func ledger() async throws -> BudgetLedger { BudgetLedger(database: try await AppDatabase.forTesting()) }

    func request(_ scopes: [String], rho: String, purpose: String = "test release") throws -> SpendRequest {
        SpendRequest(scopes: try scopes.map(q), cost: .zCDP(rho: try r(rho)), purpose: purpose, requester: "steward-a")
    }

    @Test("Spends are admitted until the budget is exhausted, then refused")
    func exhaustion() async throws {
        let ledger = try await ledger()
        try await ledger.setBudget(r("1/2"), for: q("2024Q1"), by: "steward")
        var admitted: [LedgerEntry] = []
        for _ in 0..<4 { admitted.append(try await ledger.spend(request(["2024Q1"], rho: "1/8"))) }
        #expect(try await ledger.entries() == admitted)
        #expect(try await ledger.balance(for: q("2024Q1")).remainingUnits == 0)
        await #expect(throws: LedgerError.self) { try await ledger.spend(self.request(["2024Q1"], rho: "1/1000")) }
        do {
            try await ledger.spend(request(["2024Q1"], rho: "1/8"))
            Issue.record("expected refusal")
        } catch let LedgerError.budgetExceeded(shortfalls) {
            #expect(shortfalls.count == 1)
            #expect(shortfalls[0].scope == (try q("2024Q1")))
            #expect(shortfalls[0].spent.rho == (try r("1/2")))
            #expect(shortfalls[0].requested.rho == (try r("1/8")))
        }
        #expect(try await ledger.entries().count == 4)
    }

    @Test("A refused spend leaves the ledger unchanged, even when only one of its scopes lacks budget")
    func refusalIsWhole() async throws {
        let ledger = try await ledger()
        try await ledger.setBudget(r("1"), for: q("2024Q1"), by: "steward")
        try await ledger.setBudget(r("1/10"), for: q("2024Q2"), by: "steward")
        try await ledger.spend(request(["2024Q1", "2024Q2"], rho: "1/20"))
        let before = (try await ledger.entries(), try await ledger.balances())
        await #expect(throws: LedgerError.self) { try await ledger.spend(self.request(["2024Q1", "2024Q2"], rho: "1/10")) }
        let after = (try await ledger.entries(), try await ledger.balances())
        #expect(before.0 == after.0)
        #expect(before.1 == after.1)
        #expect(try await ledger.balance(for: q("2024Q1")).spent.rho == (try r("1/20")))
        // The advisory check agrees, and writes nothing.
        #expect(try await ledger.shortfalls(for: request(["2024Q1", "2024Q2"], rho: "1/10")).map(\.scope) == [try q("2024Q2")])
        #expect(try await ledger.shortfalls(for: request(["2024Q1"], rho: "1/10")).isEmpty)
        #expect(try await ledger.entries() == before.0)
        // The same cost on the scope with room alone is fine.
        try await ledger.spend(request(["2024Q1"], rho: "1/10"))
    }

    @Test("Pure-DP costs are charged as ε²/2; inexact costs are rounded up")
    func charging() async throws {
        let ledger = try await ledger()
        try await ledger.setDefaultBudget(r("1"), by: "steward")
        let e = try await ledger.spend(SpendRequest(scopes: [q("2023Q4")], cost: .pureDP(epsilon: r("1/2")), purpose: "p", requester: "x"))
        #expect(e.charged.rho == (try r("1/8")))
        let odd = try await ledger.spend(request(["2023Q4"], rho: "1/17"))
        #expect(odd.charged.rho > (try r("1/17")))
        let listed = try await ledger.entries(scope: q("2023Q4"))
        #expect(listed.map(\.cost) == [.pureDP(epsilon: try r("1/2")), .zCDP(rho: try r("1/17"))])
        #expect(try await ledger.audit().isConsistent)
    }

    @Test("Scopes without a budget use the steward's default; with none set, nothing can be spent")
    func defaults() async throws {
        let ledger = try await ledger()
        #expect(try await ledger.defaultBudget() == RhoUnits(units: 0))
        await #expect(throws: LedgerError.self) { try await ledger.spend(self.request(["2025Q1"], rho: "1/100")) }
        try await ledger.setDefaultBudget(r("3/10"), by: "steward")
        try await ledger.spend(request(["2025Q1"], rho: "1/10"))
        let b = try await ledger.balance(for: q("2025Q1"))
        let expected = try r("3/10")
        #expect(b.budgetIsDefault)
        #expect(b.budget.rho == expected)
        #expect(b.spendCount == 1)
        try await ledger.setBudget(r("1/10"), for: q("2025Q1"), by: "steward")
        await #expect(throws: LedgerError.self) { try await ledger.spend(self.request(["2025Q1"], rho: "1/100")) }
        #expect(try await ledger.budgetChanges().map(\.scope) == [nil, try q("2025Q1")])
    }

    @Test("Bad requests are refused with typed errors")
    func badRequests() async throws {
        let ledger = try await ledger()
        try await ledger.setDefaultBudget(r("1"), by: "steward")
        await #expect(throws: LedgerError.noScopes) { try await ledger.spend(SpendRequest(scopes: [], cost: .zCDP(rho: try r("1/10")), purpose: "p", requester: "x")) }
        await #expect(throws: LedgerError.missingField("purpose")) { try await ledger.spend(self.request(["2024Q1"], rho: "1/10", purpose: " ")) }
        await #expect(throws: LedgerError.self) { try await ledger.spend(self.request(["2024Q1"], rho: "0")) }
        await #expect(throws: LedgerError.self) { try await ledger.setBudget(r("-1"), for: q("2024Q1"), by: "s") }
        for bad in ["2024Q5", "2024q1", "24Q1", "2024Q1 ", "0999Q1", ""] {
            #expect(throws: LedgerError.invalidScope(bad)) { try Quarter(scope: bad) }
        }
        #expect(Quarter(year: 2024, quarter: 3)?.description == "2024Q3")
    }

    @Test("A spend inside the caller's transaction commits or rolls back with it")
    func spendInCallerTransaction() async throws {
        let ledger = try await ledger()
        try await ledger.setDefaultBudget(r("1"), by: "steward")
        struct ReleaseFailed: Error {}
        let req = try request(["2024Q1"], rho: "1/4", purpose: "release that fails after debiting")
        // The caller debits, then fails before committing: nothing is recorded.
        await #expect(throws: ReleaseFailed.self) {
            try await ledger.database.write { db in
                _ = try await BudgetLedger.spend(req, in: db, at: Date())
                throw ReleaseFailed()
            }
        }
        #expect(try await ledger.entries().isEmpty)
        // The same, committed: recorded once, with the caller's timestamp.
        let at = Date(timeIntervalSince1970: 1_750_000_000)
        let entry = try await ledger.database.write { db in try await BudgetLedger.spend(req, in: db, at: at) }
        #expect(try await ledger.entries() == [entry])
        #expect(entry.spentAt == at)
        // A refusal inside the caller's transaction throws the typed error.
        await #expect(throws: LedgerError.self) {
            try await ledger.database.write { db in _ = try await BudgetLedger.spend(try self.request(["2024Q1"], rho: "1"), in: db, at: at) }
        }
    }

    @Test("The ledger is append-only at the SQL level")
    func appendOnly() async throws {
        let ledger = try await ledger()
        try await ledger.setDefaultBudget(r("1"), by: "steward")
        try await ledger.spend(request(["2024Q1"], rho: "1/10"))
        for sql in ["UPDATE privacy_spend SET rho_units = 1", "DELETE FROM privacy_spend_scope",
                    "DELETE FROM privacy_budget_change", "UPDATE privacy_budget_change SET rho_units = 999"] {
            await #expect(throws: (any Error).self, "\(sql)") { try await ledger.database.write { try await $0.execute(sql) } }
        }
        #expect(try await ledger.entries().count == 1)
    }

    @Test("Audit re-derives the sums and reports a scope over budget after a budget was lowered")
    func audit() async throws {
        let ledger = try await ledger()
        try await ledger.setBudget(r("1"), for: q("2024Q1"), by: "steward")
        try await ledger.setBudget(r("1"), for: q("2024Q2"), by: "steward")
        try await ledger.spend(request(["2024Q1", "2024Q2"], rho: "1/4"))
        try await ledger.spend(request(["2024Q1"], rho: "1/2"))
        var report = try await ledger.audit()
        #expect(report.isConsistent, "\(report.problems)")
        #expect(report.spendCount == 2)
        #expect(report.balances.map(\.spent.rho) == [try r("3/4"), try r("1/4")])
        try await ledger.setBudget(r("1/2"), for: q("2024Q1"), by: "steward")
        report = try await ledger.audit()
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("2024Q1") == true)
    }
}

@Suite("Budget ledger under concurrency and restarts")
struct BudgetLedgerDurabilityTests {
    /// 100 concurrent spends of ρ = 1/100 against a budget of ρ = 1/10 (admits exactly 10).
    func race(_ ledgers: [BudgetLedger]) async throws -> (admitted: Int, refused: Int) {
        let scope = try Quarter(scope: "2024Q1")
        let results = await withTaskGroup(of: Result<LedgerEntry, LedgerError>.self) { group in
            for i in 0..<100 {
                let ledger = ledgers[i % ledgers.count]
                group.addTask {
                    let req = SpendRequest(scopes: [scope], cost: .zCDP(rho: try! Rational(1, 100)),
                                           purpose: "concurrent \(i)", requester: "task-\(i)")
                    do throws(LedgerError) { return await .success(try ledger.spend(req)) } catch { return .failure(error) }
                }
            }
            var all: [Result<LedgerEntry, LedgerError>] = []
            for await r in group { all.append(r) }
            return all
        }
        var admitted = 0, refused = 0
        for r in results {
            switch r {
            case .success: admitted += 1
            case .failure(.budgetExceeded): refused += 1
            case let .failure(e): Issue.record("unexpected error \(e)")
            }
        }
        return (admitted, refused)
    }

    @Test("100 concurrent spends against a budget admitting 10 admit exactly 10 (one pool)")
    func concurrentOnePool() async throws {
        let dir = try TemporaryDirectory()
        let ledger = BudgetLedger(database: try AppDatabase.open(path: dir.databasePath))
        try await ledger.setBudget(r("1/10"), for: q("2024Q1"), by: "steward")
        let (admitted, refused) = try await race([ledger])
        #expect(admitted == 10 && refused == 90)
        #expect(try await ledger.balance(for: q("2024Q1")).spent.rho == (try r("1/10")))
        #expect(try await ledger.audit().isConsistent)
    }

    @Test("The same race across four independent connections to one file (as separate processes would)")
    func concurrentSeveralPools() async throws {
        let dir = try TemporaryDirectory()
        let first = BudgetLedger(database: try AppDatabase.open(path: dir.databasePath))
        try await first.setBudget(r("1/10"), for: q("2024Q1"), by: "steward")
        var ledgers = [first]
        for _ in 0..<3 { ledgers.append(BudgetLedger(database: try AppDatabase.open(path: dir.databasePath))) }
        let (admitted, refused) = try await race(ledgers)
        #expect(admitted == 10 && refused == 90)
        #expect(try await first.entries().count == 10)
    }

    @Test("Budgets and spends survive closing and reopening the file")
    func restart() async throws {
        let dir = try TemporaryDirectory()
        do {
            let ledger = BudgetLedger(database: try AppDatabase.open(path: dir.databasePath))
            try await ledger.setDefaultBudget(r("1/2"), by: "steward")
            try await ledger.setBudget(r("1"), for: q("2024Q1"), by: "steward")
            try await ledger.spend(SpendRequest(scopes: [q("2024Q1"), q("2024Q2")], cost: .zCDP(rho: r("1/4")),
                                          purpose: "release A", requester: "alice"))
        }  // the pool is closed here
        let reopened = BudgetLedger(database: try AppDatabase.open(path: dir.databasePath))
        let entries = try await reopened.entries()
        #expect(entries.count == 1)
        #expect(entries[0].purpose == "release A" && entries[0].requester == "alice")
        #expect(entries[0].scopes == [try q("2024Q1"), try q("2024Q2")])
        #expect(try await reopened.balance(for: q("2024Q2")).spent.rho == (try r("1/4")))
        // The persisted spend still counts: 2024Q2 (default 1/2) has exactly 1/4 left.
        await #expect(throws: LedgerError.self) {
            try await reopened.spend(SpendRequest(scopes: [q("2024Q2")], cost: .zCDP(rho: r("3/10")), purpose: "B", requester: "bob"))
        }
        try await reopened.spend(SpendRequest(scopes: [q("2024Q2")], cost: .zCDP(rho: r("1/4")), purpose: "B", requester: "bob"))
        #expect(try await reopened.balance(for: q("2024Q2")).remainingUnits == 0)
    }
}
