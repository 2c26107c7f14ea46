import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore

extension ReleaseEngine {
    /// Creates a release over the live case state, stores it with its spend and batch watermark,
    /// and pins the cohort of every case it counted that was not pinned yet
    /// (`docs/privacy-model.md` §4). Production randomness.
    ///
    /// - Parameter draftID: the draft this release publishes, if any (recorded in its status history).
    public func create(spec: ReleaseSpec, requester: String, live: any LiveCases, draftID: Int64? = nil) async throws(ReleaseError) -> Release {
        try await create(spec: spec, requester: requester, live: live, draftID: draftID) { () throws(PrivacyError) in try RandomBits.secure() }
    }

    /// The same with a caller-chosen randomness source: **tests only**.
    @_spi(Testing)
    public func create(
        spec: ReleaseSpec, requester: String, live: any LiveCases, draftID: Int64? = nil,
        randomness: @escaping @Sendable () throws(PrivacyError) -> RandomBits
    ) async throws(ReleaseError) -> Release {
        let plan = try spec.validated()
        let who = requester.trimmingCharacters(in: .whitespacesAndNewlines)
        if who.isEmpty { throw .invalidSpec("requester must not be empty") }
        let spend = SpendRequest(scopes: plan.cohorts, cost: .zCDP(rho: plan.totalRho), purpose: "release: \(plan.spec.title)", requester: who)
        let charge: RhoUnits
        do { charge = try RhoUnits.charging(plan.totalRho) } catch { throw .invalidSpec("\(error)") }
        let cohortNumbers = plan.cohorts.map(CaseProjection.cohortNumber)

        var outcome: Result<Release, ReleaseError> = .failure(.store("not run"))
        do {
            // The writer first, then the index lock: the order ingest uses. Holding the writer from
            // the projection to the pinning means no batch commits, hence none is applied to the
            // index, in between; it also serialises releases, so pins are set in release-id order,
            // the order the start-up replay re-applies them in.
            try await ReleaseStore(database).withWriter { db in
                do throws(ReleaseError) {
                    outcome = .success(try await createHoldingWriter(
                        db, plan: plan, who: who, spend: spend, charge: charge, live: live, draftID: draftID, randomness: randomness))
                } catch {
                    outcome = .failure(error)
                }
                // After the commit (the release, its spend and its watermark are durable), and still
                // holding the writer: pin what the release counted. A crash before this line loses
                // nothing: pins are derived state, re-applied from the stored release at start-up.
                if case let .success(release) = outcome {
                    // The continual streams' entries too, right after the pins (the order the
                    // start-up replay re-applies them in), from the steps the release stored.
                    var steps: [Int: Int] = [:]
                    for t in release.tables {
                        for c in t.info.continual?.cohorts ?? [] {
                            if let q = Quarter(c.cohort) { steps[CaseProjection.cohortNumber(q)] = c.step }
                        }
                    }
                    live.withMutableCaseIndex { index in
                        index.pin(asOf: plan.cutoff, cohorts: cohortNumbers)
                        index.enterStreams(asOf: plan.cutoff, steps: steps)
                    }
                    live.notePinned(releaseID: release.metadata.id)
                }
            }
        } catch { throw .store("\(error)") }
        return try outcome.get()
    }

    /// Steps 1–5 of a pinned release, on the writer connection `db`.
    private func createHoldingWriter(
        _ db: HeldWriter, plan: ValidatedSpec, who: String, spend: SpendRequest, charge: RhoUnits, live: any LiveCases,
        draftID: Int64?, randomness: @escaping @Sendable () throws(PrivacyError) -> RandomBits
    ) async throws(ReleaseError) -> Release {
        // The watermark and the input counts, read where no batch can commit until we are done:
        // the data projected below contains exactly the batches with seq <= watermark.
        let inputs: ReleaseInputs
        let before: [ScopeBalance]
        do {
            try await live.catchUp(holding: db)
            inputs = try await db.inputs()
            var balances: [ScopeBalance] = []
            for scope in spend.scopes { balances.append(try await db.balance(scope)) }
            before = balances
        } catch { throw .store("\(error)") }
        if let draftID {
            let status: ReleaseStatus?
            do { status = try await db.draftStatus(draftID) } catch { throw .store("\(error)") }
            guard let status else { throw .draftNotFound(draftID) }
            guard status == .draft else { throw .draftNotPublishable("draft \(draftID) is \(status.rawValue); only a draft can be published") }
        }
        if let expected = live.expectedWatermark, expected != inputs.batchWatermark {
            throw .store("the batch log changed while the case state was being rebuilt (batch \(inputs.batchWatermark) is stored, the rebuild saw \(expected)); is a service running on this store? Create releases through it: POST /v1/releases")
        }

        // The continual streams' steps (`docs/privacy-model.md` §4a): each cohort is charged the
        // fresh-noise tables' Σρ plus its own step's cost, which differs between cohorts.
        var continual: ContinualStepPlan?
        if plan.tables.contains(where: { $0.continual != nil }) {
            let history: [ContinualStepRow]
            do { history = try await db.continualSteps(cohorts: plan.cohorts.map(\.description)) } catch { throw .store("\(error)") }
            continual = try Self.continualStepPlan(plan, history: history)
        }
        var charges = [RhoUnits](repeating: charge, count: plan.cohorts.count)
        if let continual {
            let fresh: RhoUnits
            do {
                fresh = try RhoUnits.charging(PrivacyCost.totalRho(plan.tables.filter { $0.continual == nil }.map(\.cost)))
            } catch { throw .invalidSpec("\(error)") }
            charges = continual.charges.map { RhoUnits(units: fresh.units &+ $0) }
        }

        // 1. Fail fast, before touching the data: every cohort must have room for what it is
        //    charged (and for its whole schedule, when the spec names one).
        try await Self.checkSchedule(plan) { q in before.first { $0.scope == q }!.budget }
        let short = zip(before, charges).compactMap { LedgerRules.shortfall($0, charged: $1) }
        if !short.isEmpty {
            throw .budgetExceeded("privacy budget exceeded: " + short.map(\.description).joined(separator: "; "))
        }

        // 2. The projection, with pins, exactly as of the watermark.
        var projection: CaseProjection?
        live.withMutableCaseIndex { index in
            projection = live.projections?.projection(of: index, cutoff: plan.cutoff) ?? CaseProjection(index: index, cutoff: plan.cutoff)
        }

        // 3–4. Counts, noise, post-processing; the continual tables from their streams.
        var (infos, noisy, derived, seed) = try computeTables(
            plan, projection: projection!, skipping: Set(continual?.tables ?? []), randomness: randomness)
        var steps: [ContinualStepRow] = []
        if let continual {
            var bits: RandomBits
            do { bits = try randomness() } catch { throw .noise("\(error)") }
            let computed = try computeContinual(plan, steps: continual, live: live, bits: &bits)
            for c in computed.tables {
                infos[c.index] = c.info
                noisy[c.index] = c.noisy
                derived[c.index] = c.derived
            }
            steps = computed.rows
        }

        // 5. Metadata from the same watermark, the cumulative spend per cohort, then one
        //    transaction: one ledger spend per distinct charge (cohorts at different steps of
        //    their streams are charged different amounts).
        let now = Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down))
        let cohortSpend = zip(before, charges).map { b, charged in
            let after = RhoUnits(units: b.spent.units &+ charged.units)
            return CohortSpend(
                cohort: b.scope.description, spentRho: after.rho.description, spentRhoValue: after.rho.doubleValue,
                budgetRho: b.budget.rho.description, epsilonAtDelta1e6: ZCDP.epsilon(rho: after.rho.doubleValue, delta: 1e-6))
        }
        var spends = [spend]
        if continual != nil {
            var byCharge: [(units: Int64, scopes: [Quarter])] = []
            for (q, c) in zip(plan.cohorts, charges) {
                if let i = byCharge.firstIndex(where: { $0.units == c.units }) { byCharge[i].scopes.append(q) } else { byCharge.append((c.units, [q])) }
            }
            spends = byCharge.map { SpendRequest(scopes: $0.scopes, cost: .zCDP(rho: RhoUnits(units: $0.units).rho), purpose: spend.purpose, requester: who) }
        }
        let most = charges.max() ?? charge
        return try await store(
            plan, requester: who, at: now, batches: inputs.batches, agencies: inputs.agencies,
            tables: (infos, noisy, derived, seed), batchWatermark: inputs.batchWatermark, cohortSpend: cohortSpend,
            chargedRho: continual == nil ? nil : most.rho
        ) { document in
            try await db.createRelease(
                spend: spends[0], extraSpends: Array(spends.dropFirst()), continualSteps: steps, title: plan.spec.title,
                cutoff: plan.cutoff.iso, cohorts: plan.cohorts.map(\.description),
                totalRho: continual == nil ? plan.totalRho.description : most.rho.description, codeVersion: Self.codeVersion,
                batchWatermark: inputs.batchWatermark, draftID: draftID, at: now, document: document)
        }
    }
}
