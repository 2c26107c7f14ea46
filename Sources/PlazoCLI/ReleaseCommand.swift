import ArgumentParser
import Foundation
import PlazoApp
import PlazoIngest
import PlazoModel
import PlazoReleases
import PlazoStore

/// `plazo release ...`: the steward's release tools (issue 5, docs/metrics.md).
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Create, list, show and export differentially private releases.",
        subcommands: [Create.self, Plan.self, List.self, Show.self, Export.self, Drafts.self, Publish.self, Withdraw.self]
    )

    /// `plazo release create --spec FILE --requester NAME`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a release from a spec (debits the privacy ledger of every cohort it names).",
            discussion: """
                Rebuilds case state from the stored batches (so it needs the service's box key, as \
                `plazo serve` does), evaluates every case as of the spec's \
                cutoff, adds exact discrete noise to every cell of every table, derives the curves and \
                shares with their intervals, and stores the release together with its ledger spend. A \
                release that would exceed any cohort's budget is refused whole and changes nothing. \
                The release pins the cohort of every case it counts (docs/privacy-model.md §4), so \
                it runs only on a stopped service: while `plazo serve` holds the store, use \
                POST /v1/releases. --dry-run and --draft read no case data and spend nothing, and \
                work beside a running service. Example spec: docs/examples/quarterly-release.json.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var serviceKeys: ServiceKeyOptions
        @Option(help: "The release spec (JSON).") var spec: String
        @Option(help: "Who asks (recorded in the ledger and the release).") var requester: String = ProcessInfo.processInfo.environment["USER"] ?? "steward"
        @Flag(help: "Print the cost per cohort, each cohort's remaining budget after the release and the expected half-widths, without reading case data or spending.") var dryRun = false
        @Flag(help: "Store the spec as a draft (nothing computed, nothing spent); publish it later with `plazo release publish`.") var draft = false
        @Flag(help: "With --dry-run, print JSON.") var json = false
        @Flag(name: .customLong("public"), help: "Make the release public: its dashboards and Data Package readable without a token (one-way).") var makePublic = false

        func run() async throws {
            let spec = try ReleaseSpec.decode(json: Data(contentsOf: URL(fileURLWithPath: self.spec)))
            _ = try spec.validated()
            if dryRun {
                let plan = try await ReleaseEngine(database: store.open()).dryRun(spec: spec)
                if json { print(String(decoding: try ReleaseDryRun.snakeCaseJSON(plan), as: UTF8.self)) } else { ReleaseCommand.printPlan(plan) }
                return
            }
            if draft {
                let d = try await ReleaseEngine(database: store.open()).createDraft(spec: spec, requester: requester)
                print("draft \(d.row.id) stored: \(d.row.title) (nothing computed, nothing spent)")
                print("publish it with: plazo release publish \(d.row.id)   (or POST /v1/release-drafts/\(d.row.id)/publish on a running service)")
                ReleaseCommand.printPlan(d.plan)
                return
            }
            let lock = try store.releaseLock()
            defer { withExtendedLifetime(lock) {} }
            let database = try await store.open()
            let started = Date()
            let desk = try await ReleaseCommand.desk(database, store, serviceKeys)
            let evaluated = Date()
            let release = try await desk.create(spec: spec, requester: requester)
            let m = release.metadata
            print("release \(m.id) created: \(m.title)")
            print("cutoff \(m.cutoff); cohorts \(m.cohorts.joined(separator: ","))")
            print("ρ = \(m.totalRho) per cohort (" + m.epsilonDelta.map { String(format: "ε = %.3f at δ = %g", $0.epsilon, $0.delta) }.joined(separator: ", ") + "); ledger spend #\(m.ledgerSpendID)")
            print("data as of batch \(m.batchWatermark ?? 0): \(m.batchesIncluded) batches from \(m.agenciesIncluded) agencies")
            print(String(format: "log replay %.2f s, release %.2f s", evaluated.timeIntervalSince(started), Date().timeIntervalSince(evaluated)))
            if makePublic {
                try await ReleaseEngine(database: database).makePublic(releaseID: m.id, by: requester)
                print("release \(m.id) is public: its dashboards and Data Package are readable without a token")
            }
        }
    }

    /// The release path of a stopped service (``ReleaseDesk/replaying(database:serviceKeys:snapshotPath:)``):
    /// the case state with its pins rebuilt from the store as the service's start does, saying on
    /// standard error why the snapshot was not used when it was refused.
    static func desk(_ database: AppDatabase, _ store: StoreOptions, _ keys: ServiceKeyOptions) async throws -> ReleaseDesk {
        let (desk, snapshot) = try await ReleaseDesk.replaying(database: database, serviceKeys: keys.boxKeyPairs(), snapshotPath: store.snapshotPath)
        if case .refused = snapshot {
            FileHandle.standardError.write(Data("warning: case-index snapshot not used: \(snapshot)\n".utf8))
        }
        return desk
    }

    /// Prints a dry run's plan.
    static func printPlan(_ p: ReleaseDryRun) {
        print("dry run (no case data read, nothing spent): \(p.title), cutoff \(p.cutoff)")
        print("cost ρ = \(p.totalRho) per cohort (" + p.epsilonDelta.map { String(format: "ε = %.3f at δ = %g", $0.epsilon, $0.delta) }.joined(separator: ", ") + ")")
        print("cohort\tbudget ρ\tspent ρ\tcost ρ\tremaining after ρ")
        for c in p.cohorts {
            print("\(c.cohort)\t\(c.budgetRho)\t\(c.spentRho)\t\(c.costRho)\t\(c.remainingAfterRho)\(c.affordable ? "" : "  (over budget: would be refused)")")
        }
        print(p.wouldBeAdmitted ? "the ledger would admit this release now" : "the ledger would REFUSE this release now")
        let level = Int((p.confidenceLevel * 100).rounded())
        for t in p.tables {
            let name = t.kind.rawValue + (t.breakdown.isEmpty ? "" : " by " + t.breakdown.map(\.rawValue).joined(separator: ", "))
            print("\n[\(name)] ρ = \(t.rho), \(t.noise); \(t.cellsPerCohort) cells per cohort, each ±\(t.cellHalfWidth) at \(level) %; a group's total ±\(String(format: "%.0f", t.groupTotalHalfWidth))")
            for h in t.headlines {
                let widths = h.byAssumedDenominator.map { String(format: "n=%d: ±%.3f", $0.assumedDenominator, $0.halfWidth) }.joined(separator: ", ")
                print("  \(h.name)\(h.x.isEmpty ? "" : "@\(h.x)") (share of \(h.denominator), \(h.cellsSummed) cells summed): \(widths)")
            }
        }
        print("\nheadline half-widths: \(p.headlineMethod)")
    }

    /// `plazo release drafts`.
    struct Drafts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List release drafts (id, status, created, requester, title).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let drafts = try await ReleaseEngine(database: store.open()).drafts()
            if drafts.isEmpty { print("no drafts"); return }
            for d in drafts {
                let published = d.row.releaseID.map { " → release \($0)" } ?? ""
                print("#\(d.row.id)\t\(d.row.status.rawValue)\(published)\t\(d.row.createdAt.formatted(.iso8601))\t\(d.row.requester)\t\(d.row.title)\tcost ρ=\(d.plan.totalRho)")
            }
        }
    }

    /// `plazo release publish DRAFT_ID [--public]` and `plazo release publish --release ID --public`.
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a draft (a stopped service only), or make a published release public.",
            discussion: """
                With a draft id: computes the draft over the case state now, charges the ledger, pins and \
                stores it; --public also opens it to everyone. With --release ID --public: opens a \
                published release to everyone, so that its dashboards and Data Package are readable \
                without a token (also POST /v1/releases/{id}/public on a running service). Making a \
                release public is one-way; withdraw it to hide it again.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var serviceKeys: ServiceKeyOptions
        @Argument(help: "Draft id.") var id: Int64?
        @Option(help: "A published release to make public (with --public).") var release: Int64?
        @Flag(name: .customLong("public"), help: "Make the release public (one-way).") var makePublic = false
        @Option(help: "Who publishes (recorded in the ledger and the release).") var requester: String = ProcessInfo.processInfo.environment["USER"] ?? "steward"

        func validate() throws {
            guard (id == nil) != (release == nil) else { throw ValidationError("give a draft id, or --release ID with --public") }
            if release != nil, !makePublic { throw ValidationError("--release makes a published release public: add --public") }
        }

        func run() async throws {
            if let release {
                // A flag in the store: safe beside a running service, which reads it on each request.
                try await ReleaseEngine(database: store.open()).makePublic(releaseID: release, by: requester)
                print("release \(release) is public: its dashboards and Data Package are readable without a token")
                return
            }
            guard let id else { return }
            let lock = try store.releaseLock()
            defer { withExtendedLifetime(lock) {} }
            let database = try await store.open()
            let desk = try await ReleaseCommand.desk(database, store, serviceKeys)
            let engine = desk.engine
            let published = try await desk.publishDraft(id: id, requester: requester)
            print("draft \(id) published as release \(published.metadata.id): ρ = \(published.metadata.totalRho) per cohort; ledger spend #\(published.metadata.ledgerSpendID)")
            if makePublic {
                try await engine.makePublic(releaseID: published.metadata.id, by: requester)
                print("release \(published.metadata.id) is public: its dashboards and Data Package are readable without a token")
            }
        }
    }

    /// `plazo release withdraw (--release ID | --draft ID) --reason TEXT`.
    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a published release (it keeps its spend and its pins) or an unpublished draft.")
        @OptionGroup var store: StoreOptions
        @Option(help: "A published release id.") var release: Int64?
        @Option(help: "An unpublished draft id.") var draft: Int64?
        @Option(help: "Why (recorded in the status history).") var reason: String
        @Option(help: "Who withdraws it.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "steward"

        func validate() throws {
            if (release == nil) == (draft == nil) { throw ValidationError("give exactly one of --release or --draft") }
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must not be empty") }
        }

        func run() async throws {
            let engine = await ReleaseEngine(database: try store.open())
            if let release {
                try await engine.withdraw(releaseID: release, by: by, reason: reason)
                print("release \(release) withdrawn (its spend and pins stay; researchers and dashboards no longer see it)")
            } else if let draft {
                try await engine.withdrawDraft(id: draft, by: by, reason: reason)
                print("draft \(draft) withdrawn (nothing had been spent for it)")
            }
        }
    }

    /// `plazo release list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List releases (id, created, cutoff, cohorts, ρ, requester, title).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let engine = await ReleaseEngine(database: try store.open())
            let rows = try await engine.list()
            if json {
                print(try PlazoJSON.text(rows, snakeCase: true))
                return
            }
            if rows.isEmpty { print("no releases"); return }
            for r in rows {
                let status = (try? await engine.status(releaseID: r.id))?.rawValue ?? "published"
                print("#\(r.id)\t\(status)\t\(r.createdAt.formatted(.iso8601))\tcutoff \(r.cutoff)\t\(r.cohorts.joined(separator: ","))\tρ=\(r.totalRho)\t\(r.requester)\t\(r.title)")
            }
        }
    }

    /// `plazo release show ID`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a release: parameters and headline figures with intervals (or everything as JSON).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Release id.") var id: Int64
        @Flag(help: "Print the whole release as JSON (every cell and estimate).") var json = false

        func run() async throws {
            let release = try await ReleaseEngine(database: store.open()).release(id: id)
            if json {
                FileHandle.standardOutput.write(Data(try ReleaseExport.json(release)))
                print()
                return
            }
            let m = release.metadata
            print("release \(m.id): \(m.title)")
            print("created \(m.createdAt.formatted(.iso8601)) by \(m.requester); \(m.codeVersion)")
            print("cutoff \(m.cutoff); cohorts \(m.cohorts.joined(separator: ", "))")
            print("inputs: \(m.batchesIncluded) batches from \(m.agenciesIncluded) agencies" + (m.batchWatermark.map { " (data as of batch \($0))" } ?? " (made before pins: no watermark)"))
            for c in m.cohortSpend ?? [] {
                print(String(format: "cohort %@: cumulative ρ = %@ of budget %@ after this release (ε = %.2f at δ = 1e-6)", c.cohort, c.spentRho, c.budgetRho, c.epsilonAtDelta1e6))
            }
            print("mechanism \(m.mechanism.rawValue); ρ = \(m.totalRho) per cohort; " + m.epsilonDelta.map { String(format: "ε = %.3f at δ = %g", $0.epsilon, $0.delta) }.joined(separator: ", "))
            print("intervals: \(Int(m.confidenceLevel * 100)) %; derived by \(m.simulationReplicates) noise simulations")
            for (t, table) in release.tables.enumerated() {
                let i = table.info
                print("\n[\(ReleaseExport.tableName(release, table: t))] ρ = \(i.rho), \(i.noise), ±\(i.halfWidth) per count")
                if !i.breakdown.isEmpty { print("  (\(table.groupCount) groups; see --json or plazo release export)"); continue }
                let headline: [(String, String)] = switch i.kind {
                case .timeToFirstDecision: [("cases", ""), ("cumulative_incidence_charge", "90"), ("cumulative_incidence_charge", "365"),
                                            ("cumulative_incidence_closure", "365"), ("median_days_to_first_decision", "")]
                case .attrition: [("reached_share", "charged"), ("conversion_from_previous", "charged"), ("reached_share", "convicted")]
                case .dispositions: [("charged_cases", ""), ("share_of_charged", "pending"), ("share_of_charged", "conviction_by_plea")]
                case .backlog: [("open_cases", ""), ("suspended_share", "")]
                case .victimUpdateTime: [("updated_by", "90"), ("median_days_to_first_update", "")]
                case .victimUpdateRecency: [("open_cases", ""), ("share_no_update_90d", "")]
                case .chargeByHorizon: [("cases", ""), ("charged_within", "90"), ("charged_within", "180"), ("charged_within", "365")]
                }
                for (g, cohort) in release.cohortGroups(table: t).map(\.label).enumerated() {
                    let parts = headline.compactMap { name, x -> String? in
                        guard let e = i.estimates.firstIndex(where: { $0.name == name && $0.x == x }) else { return nil }
                        let v = release.estimate(table: t, group: g, estimate: e)
                        return "\(name)\(x.isEmpty ? "" : "@\(x)")=\(v.text(unit: i.estimates[e].unit))"
                    }
                    print("  \(cohort)  " + parts.joined(separator: "  "))
                }
            }
        }

    }

    /// `plazo release export ID [--format zip|tar|directory] [--out PATH]`.
    struct Export: AsyncParsableCommand {
        /// What `export` writes.
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case zip, tar, directory
        }

        static let configuration = CommandConfiguration(
            abstract: "Write a release as a Frictionless Data Package: a zip by default, or a tar or a directory.",
            discussion: """
                The zip (deflate) holds datapackage.json at its root, so `frictionless validate plazo-release-ID.zip` \
                reads it as it is; the tar holds one directory plazo-release-ID/. Without --format, an --out ending in \
                .zip or .tar chooses the format, and anything else is a zip. An archive aimed at an existing directory \
                is written inside it as plazo-release-ID.zip (or .tar).
                """
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "Release id.") var id: Int64
        @Option(help: "zip (the default), tar, or directory.") var format: Format?
        @Option(help: "Output file, or directory (default: plazo-release-ID.zip, .tar, or plazo-release-ID/ here).") var out: String?

        /// The format and the path to write, from the options.
        func destination() throws -> (format: Format, path: String) {
            let name = "plazo-release-\(id)"
            let implied: Format? = out.flatMap { $0.hasSuffix(".zip") ? .zip : $0.hasSuffix(".tar") ? .tar : nil }
            if let format, let implied, format != implied {
                throw ValidationError("--format \(format.rawValue) does not match --out \(out ?? "")")
            }
            let chosen = format ?? implied ?? .zip
            guard let out else { return (chosen, chosen == .directory ? name : "\(name).\(chosen.rawValue)") }
            var isDirectory: ObjCBool = false
            if chosen != .directory, FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue {
                return (chosen, URL(fileURLWithPath: out).appendingPathComponent("\(name).\(chosen.rawValue)").path)
            }
            return (chosen, out)
        }

        func run() async throws {
            let (format, path) = try destination()
            let release = try await ReleaseEngine(database: store.open()).release(id: id)
            switch format {
            case .zip, .tar:
                let archive = try ReleaseArchive.dataPackage(release, format: format == .zip ? .zip : .tar)
                try Data(archive.bytes).write(to: URL(fileURLWithPath: path))
                print("wrote \(path) (\(format.rawValue), \(archive.bytes.count) bytes)")
            case .directory:
                let files = try ReleaseExport.dataPackage(release)
                for f in files {
                    let url = URL(fileURLWithPath: path).appendingPathComponent(f.path)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(f.bytes).write(to: url)
                }
                print("wrote \(files.count) files to \(path)")
            }
        }
    }
}
