import Foundation
import PlazoApp
import PlazoCases
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoReleases
import PlazoStore

extension DemoCommand {
    /// After ingest: the steward sets budgets, creates a quarterly release, issues tokens; then the
    /// summary a newcomer reads.
    func afterIngest(root: URL, database: AppDatabase, service: PlazoService, base: String, today: Day) async throws {
        // 6. Budgets: ρ = 1 per cohort (zCDP), the steward's default for the demo.
        say("== 6. privacy budget: ρ = 1 (zCDP) per report-quarter cohort")
        let ledger = BudgetLedger(database: database)
        try await ledger.changeBudget(Rational(1, 1), scope: nil, by: "demo steward", reason: "demo: one quarterly release per cohort")

        // 7. A quarterly release as of the last complete quarter.
        let cutoffQuarter = today.quarter.previous
        let cutoff = cutoffQuarter.lastDay!
        var cohorts: [Quarter] = [cutoffQuarter]
        while cohorts.count < 8 { cohorts.insert(cohorts[0].previous, at: 0) }
        let spec = ReleaseSpec(
            title: "Quarterly release \(cutoffQuarter) (demo)", cutoff: cutoff.iso, cohorts: cohorts.map(\.description),
            mechanism: .discreteGaussian, confidenceLevel: 0.95, simulationReplicates: 200,
            tables: [
                TableRequest(table: .timeToFirstDecision, rho: "1/50"),
                TableRequest(table: .attrition, rho: "1/50"),
                TableRequest(table: .dispositions, rho: "1/100"),
                TableRequest(table: .backlog, rho: "1/100"),
                TableRequest(table: .victimUpdateTime, rho: "1/100"),
                TableRequest(table: .victimUpdateRecency, rho: "1/100"),
                TableRequest(table: .timeToFirstDecision, breakdown: [.state], rho: "1/50"),
                TableRequest(table: .attrition, breakdown: [.offence], rho: "1/50"),
                // Time to charge counted directly at 90/180/365/730 days, and state figures pooled
                // by report year (a state's quarter is too small to read): docs/metrics.md §2, §5.1.
                TableRequest(table: .chargeByHorizon, rho: "1/100"),
                TableRequest(table: .chargeByHorizon, breakdown: [.state], rho: "1/50", poolCohorts: .year),
                TableRequest(table: .attrition, breakdown: [.state], rho: "1/50", poolCohorts: .year),
            ]
        )
        let specData = try PlazoJSON.encoder(pretty: true, snakeCase: true).encode(spec)
        try specData.write(to: root.appendingPathComponent("quarterly-release.json"))
        say("== 7. quarterly release: cutoff \(cutoff.iso), cohorts \(cohorts.first!) … \(cohorts.last!), \(spec.tables.count) tables")
        let started = Date()
        // The service's own release path, as POST /v1/releases takes it.
        let release = try await service.releases.create(spec: spec, requester: "demo steward")
        let engine = service.releases.engine
        // Differentially private releases are made to be published: the demo's is public, so the
        // dashboard page and the Data Package open without a token.
        try await engine.makePublic(releaseID: release.metadata.id, by: "demo steward")
        let m = release.metadata
        say(String(format: "   release %lld created in %.2f s: ρ = %@ per cohort (ε = %.2f at δ = %g), %d batches from %d agencies",
                   m.id, Date().timeIntervalSince(started), m.totalRho, m.epsilonDelta.first?.epsilon ?? Double.nan,
                   m.epsilonDelta.first?.delta ?? Double.nan, m.batchesIncluded, m.agenciesIncluded))
        let balance = try await ledger.balance(for: cohorts.last!)
        say("   budget of cohort \(cohorts.last!): spent ρ = \(balance.spent) of \(balance.budget) over \(balance.spendCount) release(s)")

        // 8. Headline figures (noisy, with 95 % intervals), overall tables, one cohort a year ago.
        let headlineCohort = cohorts[max(0, cohorts.count - 5)].description
        say("== 8. headline figures for the \(headlineCohort) cohort (differentially private, 95 % intervals)")
        func show(_ kind: TableKind, _ name: String, _ x: String, _ text: String, percent: Bool) {
            guard let t = release.tables.firstIndex(where: { $0.info.kind == kind && $0.info.breakdown.isEmpty && $0.info.pooling == nil }),
                let g = release.metadata.cohorts.firstIndex(of: headlineCohort),
                let e = release.tables[t].info.estimates.firstIndex(where: { $0.name == name && $0.x == x })
            else { return }
            let v = release.estimate(table: t, group: g, estimate: e)
            say("   \(text): " + v.text(unit: release.tables[t].info.estimates[e].unit, percent: percent))
        }
        show(.timeToFirstDecision, "cases", "", "cases reported", percent: false)
        show(.timeToFirstDecision, "cumulative_incidence_charge", "365", "charged within 365 days (life table)", percent: true)
        show(.chargeByHorizon, "charged_within", "365", "charged within 365 days (counted directly)", percent: true)
        show(.timeToFirstDecision, "cumulative_incidence_closure", "365", "closed without charge within 365 days", percent: true)
        show(.timeToFirstDecision, "median_days_to_first_decision", "", "median days to a first decision", percent: false)
        show(.attrition, "reached_share", "charged", "reached a charge by the cutoff", percent: true)
        show(.victimUpdateTime, "updated_by", "90", "victim informed within 90 days", percent: true)
        show(.victimUpdateRecency, "share_no_update_90d", "", "open cases with no update in 90 days", percent: true)

        // 9. Tokens to explore the API.
        let tokens = TokenStore(database)
        let oversight = try await tokens.create(name: "demo oversight body", role: .oversight, createdBy: "demo")
        let researcher = try await tokens.create(name: "demo researcher", role: .researcher, createdBy: "demo")
        let steward = try await tokens.create(name: "demo steward", role: .steward, createdBy: "demo")
        say("== 9. explore (the release is public; tokens are shown once, the store keeps only their hashes)")
        say("   dashboard page (Spanish; English with the switch): \(base)/")
        say("   public:     curl '\(base)/v1/dashboards/time-to-charge?cohort=\(headlineCohort)&lang=en'")
        say("               curl -o release.zip \(base)/v1/releases/\(m.id)/datapackage")
        say("   oversight:  curl -H 'Authorization: Bearer \(oversight.token)' '\(base)/v1/dashboards/time-to-decision?cohort=\(headlineCohort)'")
        say("   researcher: curl -H 'Authorization: Bearer \(researcher.token)' \(base)/v1/releases/\(m.id)")
        say("               curl -H 'Authorization: Bearer \(researcher.token)' -o release.zip \(base)/v1/releases/\(m.id)/datapackage")
        say("   steward:    curl -H 'Authorization: Bearer \(steward.token)' \(base)/v1/ledger")
        say("   files:      \(root.path)/ (keys, exports, outbox with receipts, plazo.sqlite, quarterly-release.json)")
    }
}

extension Quarter {
    /// The quarter before.
    var previous: Quarter { quarter == 1 ? Quarter(year: year - 1, quarter: 4)! : Quarter(year: year, quarter: quarter - 1)! }
}

