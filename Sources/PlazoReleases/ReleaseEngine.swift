import Dispatch
import Foundation
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// Creates, stores and reads differentially private releases (issue 5, `docs/metrics.md`).
///
/// Typical use (CLI or HTTP steward endpoint):
/// ```swift
/// let engine = ReleaseEngine(database: db)
/// let projection = CaseProjection(index: liveIndex, cutoff: day)
/// let release = try engine.create(spec: spec, requester: "steward-name", projection: projection)
/// let again = try engine.release(id: release.metadata.id)                 // same numbers, never re-noised
/// ```
///
/// Privacy: ``create(spec:requester:projection:)`` is the only path from data to output. It checks
/// the budget of every cohort first, computes exact counts from the projection (never returned),
/// adds exact discrete noise from libsodium randomness to every cell of every table (cells over
/// public code lists), then debits the ledger and stores the release in one transaction. Everything
/// after the noise is post-processing of noisy counts.
public struct ReleaseEngine: Sendable {
    /// The version of the release computations, stored in every release.
    public static let codeVersion = "plazo-releases 1.1 (metrics v1, 25 time bins, actuarial life table truncated at follow-up, isotonic and simplex fits, raw-centred bootstrap intervals)"

    /// The database (ledger, batches, releases).
    public let database: AppDatabase
    let clock: @Sendable () -> Date

    /// An engine on `database`; `clock` stamps releases (injectable for tests).
    public init(database: AppDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.clock = clock
    }

    // MARK: Inputs

    /// The case index itself is not read from here: it lives in memory and is rebuilt from the
    /// batch log by `PlazoIngest` (the only module that opens batches). Callers project it with
    /// ``CaseProjection/init(index:cutoff:)``.

    // MARK: Creating

    /// Creates a release from a projection the caller made, with production randomness, and
    /// stores it **without a batch watermark, so it pins no cohort**. For benchmarks and tools on
    /// data that is not a service's: the service and `plazo release create` use
    /// ``create(spec:requester:live:draftID:)``, which pins (`docs/privacy-model.md` §4).
    ///
    /// - Throws: ``ReleaseError/invalidSpec(_:)`` (nothing spent), ``ReleaseError/budgetExceeded(_:)``
    ///   (refused whole: the ledger is unchanged and nothing is stored), or a noise/store failure
    ///   (nothing spent: the spend and the release commit together).
    public func create(spec: ReleaseSpec, requester: String, projection: CaseProjection) async throws(ReleaseError) -> Release {
        try await create(spec: spec, requester: requester, projection: projection) { () throws(PrivacyError) in try RandomBits.secure() }
    }

    /// The same with a caller-chosen randomness source: **tests only** (seeded bits protect nothing).
    @_spi(Testing)
    public func create(
        spec: ReleaseSpec, requester: String, projection: CaseProjection,
        randomness: @Sendable () throws(PrivacyError) -> RandomBits
    ) async throws(ReleaseError) -> Release {
        let plan = try spec.validated()
        let who = requester.trimmingCharacters(in: .whitespacesAndNewlines)
        if who.isEmpty { throw .invalidSpec("requester must not be empty") }
        if let t = plan.tables.firstIndex(where: { $0.continual != nil }) {
            throw .invalidSpec(
                "tables[\(t)].continual: a continual table steps each cohort's stream in the service's case state; create the release through the service (POST /v1/releases) or with plazo release create")
        }
        guard projection.cutoff == plan.cutoff else {
            throw .invalidSpec("the case projection is as of \(projection.cutoff), the spec's cutoff is \(plan.cutoff)")
        }
        let spend = SpendRequest(scopes: plan.cohorts, cost: .zCDP(rho: plan.totalRho), purpose: "release: \(plan.spec.title)", requester: who)

        // 1. Fail fast, before touching the data: every cohort must have room for Σρ. (Checked again,
        //    atomically, when the spend is recorded.)
        try await Self.checkSchedule(plan) { q in try await BudgetLedger(database: database).balance(for: q).budget }
        try await preflight(spend)

        // 2–4. Exact counts, noise, post-processing.
        let (infos, noisy, derived, seed) = try computeTables(plan, projection: projection, randomness: randomness)

        // 5. Debit and store together.
        let inputs: (batches: Int, agencies: Int)
        do { inputs = try await ReleaseStore(database).inputCounts() } catch { throw .store("\(error)") }
        // Whole seconds: the stored ISO 8601 timestamp round-trips exactly.
        let now = Date(timeIntervalSince1970: clock().timeIntervalSince1970.rounded(.down))
        return try await store(
            plan, requester: who, at: now, batches: inputs.batches, agencies: inputs.agencies,
            tables: (infos, noisy, derived, seed)
        ) { document in
            try await ReleaseStore(database).create(
                spend: spend, title: plan.spec.title, cutoff: plan.cutoff.iso, cohorts: plan.cohorts.map(\.description),
                totalRho: plan.totalRho.description, codeVersion: Self.codeVersion, at: now, document: document)
        }
    }

    /// Step 5 of a release, shared by every path that creates one: the metadata, then `insert`
    /// debits the spend and stores the document in one transaction (handing `document` the new
    /// release id and spend, so the stored bytes name them). A refusal by the ledger there (another
    /// spend took the budget after the preflight) is ``ReleaseError/budgetExceeded(_:)`` in the
    /// preflight's words.
    func store(
        _ plan: ValidatedSpec, requester who: String, at now: Date, batches: Int, agencies: Int,
        tables computed: (infos: [ReleasedTableInfo], noisy: [[Int64]], derived: [[Double]], seed: UInt64),
        batchWatermark: Int64? = nil, cohortSpend: [CohortSpend]? = nil, chargedRho: Rational? = nil,
        insert: (_ document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]) async throws -> ReleaseRow
    ) async throws(ReleaseError) -> Release {
        let (infos, noisy, derived, seed) = computed
        // What one cohort was charged: Σρ of the tables, or, for a release with continual tables
        // (whose cohorts are charged by their streams' steps), the most any cohort was charged.
        let rho = chargedRho ?? plan.totalRho
        var metadata = ReleaseMetadata(
            id: 0, title: plan.spec.title, requester: who, createdAt: now, codeVersion: Self.codeVersion,
            cutoff: plan.cutoff.iso, cohorts: plan.cohorts.map(\.description), mechanism: plan.mechanism,
            confidenceLevel: plan.confidenceLevel, totalRho: rho.description, totalRhoValue: rho.doubleValue,
            epsilonDelta: [1e-6, 1e-9].map { EpsilonDelta(delta: $0, epsilon: ZCDP.epsilon(rho: rho.doubleValue, delta: $0)) },
            ledgerSpendID: 0, batchesIncluded: batches, agenciesIncluded: agencies,
            simulationSeed: String(seed), simulationReplicates: plan.replicates, spec: plan.spec, tables: infos,
            batchWatermark: batchWatermark, cohortSpend: cohortSpend)
        let tables = zip(infos, zip(noisy, derived)).map { ReleasedTable(info: $0, noisyCounts: $1.0, derived: $1.1) }
        do {
            let row = try await insert { id, entry in
                metadata.id = id
                metadata.ledgerSpendID = entry.id
                return try ReleaseDocument.encode(Release(metadata: metadata, tables: tables))
            }
            metadata.id = row.id
        } catch let LedgerError.budgetExceeded(shortfalls) {
            // The preflight passed but another spend (another thread or process) took the budget
            // before this transaction: the same refusal, in the same words.
            throw .budgetExceeded("privacy budget exceeded: " + shortfalls.map(\.description).joined(separator: "; "))
        } catch let e as ReleaseError { throw e } catch { throw .store("\(error)") }
        return Release(metadata: metadata, tables: tables)
    }

    /// Steps 2–4 of a release, shared by every path that creates one: exact counts from the
    /// projection (internal only), noise on every cell, then derived estimates (post-processing).
    ///
    /// Tables in `skipping` (the continual ones, computed by ``computeContinual(_:steps:live:bits:)``)
    /// get no noise and no cells here: their slots are filled by the caller.
    func computeTables(
        _ plan: ValidatedSpec, projection: CaseProjection, skipping: Set<Int> = [],
        randomness: @Sendable () throws(PrivacyError) -> RandomBits
    ) throws(ReleaseError) -> (infos: [ReleasedTableInfo], noisy: [[Int64]], derived: [[Double]], seed: UInt64) {
        // 2. Exact counts (internal only), one vector per table over public cells.
        var slots = [Int16](repeating: -1, count: 1024)
        for (i, q) in plan.cohorts.enumerated() { slots[CaseProjection.cohortNumber(q)] = Int16(i) }
        let plans = plan.tables.map {
            TabulationPlan(kind: $0.kind, dimensions: $0.breakdown, cohortCount: $0.cohortGroups.count, cohortGroups: $0.cohortGroups)
        }
        var exact = projection.tabulate(plans, cohortSlots: slots)
        for t in skipping { exact[t] = [] }

        // 3. Noise on every cell. Sensitivity 1 per table (each case in at most one cell), so table i
        //    is ρᵢ-zCDP; the tables compose to Σρᵢ within each cohort.
        let noisy = try addNoise(exact, mechanisms: plan.tables.map(\.mechanism), randomness: randomness)
        var seedBits: RandomBits
        do { seedBits = try randomness() } catch { throw .noise("\(error)") }
        let seed = seedBits.next64()

        // 4. Post-processing: derived estimates and their intervals (no budget).
        var infos: [ReleasedTableInfo] = []
        for t in plan.tables { infos.append(try Self.info(t, level: plan.confidenceLevel)) }
        let derived = Self.derive(
            noisy, infos: infos, replicates: plan.replicates, level: plan.confidenceLevel, seed: seed,
            cohorts: plan.cohorts, cutoff: plan.cutoff)
        return (infos, noisy, derived, seed)
    }

    /// When the spec names its schedule (`releases_per_cohort`), refuses a release whose ρ over the
    /// whole schedule exceeds some cohort's lifetime budget, saying what fits per release; nothing
    /// is spent. Budgets are read by the caller (`budget(scope)`).
    static func checkSchedule(_ plan: ValidatedSpec, budget: (Quarter) async throws -> RhoUnits) async throws(ReleaseError) {
        guard let n = plan.spec.releasesPerCohort else { return }
        let perRelease: RhoUnits, schedule: RhoUnits
        do {
            perRelease = try RhoUnits.charging(plan.totalRho)
            schedule = try RhoUnits.charging(plan.totalRho.multiplied(by: Rational(integer: Int64(n))))
        } catch { throw .invalidSpec("\(error)") }
        // Cohorts over budget, grouped by their budget so that one sentence covers a whole window.
        var over: [(budget: RhoUnits, cohorts: [Quarter])] = []
        for q in plan.cohorts {
            let b: RhoUnits
            do { b = try await budget(q) } catch { throw .store("\(error)") }
            guard schedule.units > b.units else { continue }
            if let i = over.firstIndex(where: { $0.budget.units == b.units }) { over[i].cohorts.append(q) } else { over.append((b, [q])) }
        }
        let sentences = over.map { group in
            let fits = (try? group.budget.rho.divided(by: Rational(integer: Int64(n)))) ?? .zero
            let names = group.cohorts.count > 2 ? "\(group.cohorts.first!) … \(group.cohorts.last!)" : group.cohorts.map(\.description).joined(separator: ", ")
            return "\(names): lifetime budget ρ=\(group.budget.rho), so at most ρ=\(fits) per release fits"
        }
        if !sentences.isEmpty {
            throw .budgetExceeded(
                "the release costs ρ=\(perRelease.rho) per cohort; over releases_per_cohort=\(n) releases that is ρ=\(schedule.rho), more than "
                    + sentences.joined(separator: "; "))
        }
    }

    /// Refuses a spend that some scope cannot afford (``LedgerRules/shortfall(_:charged:)``), without
    /// writing anything.
    func preflight(_ spend: SpendRequest) async throws(ReleaseError) {
        let ledger = BudgetLedger(database: database)
        do {
            let charge = try RhoUnits.charging(spend.cost.rho())
            var short: [ScopeShortfall] = []
            for scope in spend.scopes {
                if let s = LedgerRules.shortfall(try await ledger.balance(for: scope), charged: charge) { short.append(s) }
            }
            if !short.isEmpty { throw ReleaseError.budgetExceeded("privacy budget exceeded: " + short.map(\.description).joined(separator: "; ")) }
        } catch let e as ReleaseError { throw e } catch { throw .store("\(error)") }
    }

    /// Adds independent noise to every cell, on two threads with independent randomness streams.
    func addNoise(
        _ exact: [[Int64]], mechanisms: [any CountMechanism], randomness: @Sendable () throws(PrivacyError) -> RandomBits
    ) throws(ReleaseError) -> [[Int64]] {
        var offsetList = [0]
        for e in exact { offsetList.append(offsetList.last! + e.count) }
        let total = offsetList.last!
        let flat = UnsafeSendableBox([Int64](repeating: 0, count: total))
        let failure = UnsafeSendableBox<String?>(nil)
        let chunks = total >= 4096 ? 2 : 1
        let mechs = mechanisms
        let offsets = offsetList
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = total * chunk / chunks, hi = total * (chunk + 1) / chunks
            var out = [Int64](repeating: 0, count: hi - lo)
            do {
                var bits = try randomness()
                var t = 0
                for i in lo..<hi {
                    while i >= offsets[t + 1] { t += 1 }
                    let z = try mechs[t].sampleNoise(using: &bits)
                    let (v, o) = exact[t][i - offsets[t]].addingReportingOverflow(z)
                    if o { throw PrivacyError.countOverflow(index: i) }
                    out[i - lo] = v
                }
            } catch {
                failure.withValue { $0 = "\(error)" }
                return
            }
            flat.withValue { f in for i in lo..<hi { f[i] = out[i - lo] } }
        }
        if let why = failure.value { throw .noise(why) }
        let all = flat.value
        return (0..<exact.count).map { Array(all[offsets[$0]..<offsets[$0 + 1]]) }
    }

    static func info(_ t: ValidatedSpec.Table, level: Double) throws(ReleaseError) -> ReleasedTableInfo {
        let halfWidth: Int64
        do { halfWidth = try t.mechanism.halfWidth(alpha: 1 - level) } catch { throw .noise("\(error)") }
        var sigmaSquared: String?, scale: String?, epsilon: String?, sd = 0.0
        switch t.mechanism.noise {
        case let .discreteGaussian(s2):
            sigmaSquared = s2.description
            sd = Accuracy.discreteGaussianVariance(sigmaSquared: s2).squareRoot()
        case let .discreteLaplace(b):
            scale = b.description
            sd = Accuracy.discreteLaplaceVariance(scale: b).squareRoot()
        }
        if case let .pureDP(e) = t.cost { epsilon = e.description }
        let rho: Rational
        do { rho = try t.cost.rho() } catch { throw .noise("\(error)") }
        return ReleasedTableInfo(
            kind: t.kind, breakdown: t.breakdown, sensitivity: 1, rho: rho.description, epsilon: epsilon,
            noise: t.mechanism.noise.description, sigmaSquared: sigmaSquared, laplaceScale: scale,
            noiseStandardDeviation: sd, halfWidth: halfWidth, cellLabels: t.kind.cellLabels,
            estimates: Derivation.layout(t.kind), pooling: t.pooling, cohortGroups: t.pooling == nil ? nil : t.cohortGroups)
    }

    /// The simulation seed of one group: a fixed function of the release seed and the group's
    /// position, so results do not depend on how work is split between threads.
    static func groupSeed(_ seed: UInt64, table: Int, group: Int) -> UInt64 {
        seed ^ (UInt64(table) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(group) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Derived estimates with intervals for every group of every table, on two threads. Group g of
    /// table t belongs to cohort `g / groupsPerCohort`, whose public follow-up span at `cutoff`
    /// bounds what is published (``FollowUp``).
    static func derive(
        _ noisy: [[Int64]], infos: [ReleasedTableInfo], replicates: Int, level: Double, seed: UInt64,
        cohorts: [Quarter], cutoff: Day
    ) -> [[Double]] {
        let perCohort = cohorts.map { FollowUp(cohort: $0, cutoff: cutoff) }
        // Per table, per group of its outermost axis: the follow-up of its cohort, or the union of
        // a pooled group's quarters.
        let followUps = infos.map { info in
            (info.cohortGroups ?? cohorts.indices.map { CohortGroup(label: "", cohorts: [$0]) }).map { group in
                group.cohorts.count == 1 ? perCohort[group.cohorts[0]] : FollowUp(pooling: group.cohorts.map { perCohort[$0] })
            }
        }
        let simulators = infos.map { info in
            GroupSimulator(
                kind: info.kind, noise: NoiseTable(noiseDistribution(info)), replicates: replicates, confidence: level)
        }
        var workList: [(table: Int, group: Int)] = []
        for (t, info) in infos.enumerated() {
            for g in 0..<(noisy[t].count / info.cellLabels.count) { workList.append((t, g)) }
        }
        let results = UnsafeSendableBox(infos.enumerated().map { t, info in
            [Double](repeating: .nan, count: noisy[t].count / info.cellLabels.count * info.estimates.count * 3)
        })
        let work = workList
        let chunks = work.count >= 64 ? 2 : 1
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = work.count * chunk / chunks, hi = work.count * (chunk + 1) / chunks
            var local: [(Int, Int, [Double])] = []
            for (t, g) in work[lo..<hi] {
                let cells = infos[t].cellLabels.count
                let e = infos[t].estimates.count
                var out = [Double](repeating: .nan, count: 3 * e)
                var rng = SimulationRNG(seed: groupSeed(seed, table: t, group: g))
                noisy[t].withUnsafeBufferPointer { all in
                    let slice = UnsafeBufferPointer(rebasing: all[(g * cells)..<((g + 1) * cells)])
                    let followUp = followUps[t][g / infos[t].groupsPerCohort]
                    out.withUnsafeMutableBufferPointer { simulators[t].run(slice, followUp: followUp, rng: &rng, out: $0) }
                }
                local.append((t, g, out))
            }
            results.withValue { r in
                for (t, g, out) in local {
                    let e3 = out.count
                    r[t].replaceSubrange((g * e3)..<((g + 1) * e3), with: out)
                }
            }
        }
        return results.value
    }

    static func noiseDistribution(_ info: ReleasedTableInfo) -> NoiseDistribution {
        if let s = info.sigmaSquared, let r = try? Rational(parsing: s) { return .discreteGaussian(sigmaSquared: r) }
        if let b = info.laplaceScale, let r = try? Rational(parsing: b) { return .discreteLaplace(scale: r) }
        return .discreteGaussian(sigmaSquared: .one)
    }

    // MARK: Reading

    /// Every release's metadata row, oldest first.
    public func list() async throws(ReleaseError) -> [ReleaseRow] {
        do { return try await ReleaseStore(database).list() } catch { throw .store("\(error)") }
    }

    /// A stored release, exactly as created (the stored noisy numbers are returned; nothing is re-noised).
    public func release(id: Int64) async throws(ReleaseError) -> Release {
        let fetched: (row: ReleaseRow, document: [UInt8])?
        do { fetched = try await ReleaseStore(database).fetch(id: id) } catch { throw .store("\(error)") }
        guard let fetched else { throw .notFound(id) }
        return try ReleaseDocument.decode(fetched.document)
    }

    /// The most recent published release, or nil when none exists.
    public func latest() async throws(ReleaseError) -> Release? {
        guard let last = try await publishedList().last else { return nil }
        return try await release(id: last.id)
    }
}
